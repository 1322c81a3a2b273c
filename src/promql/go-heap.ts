/**
 * The heap topk/bottomk use in Prometheus: Go's container/heap over vectorByValueHeap
 * (topk: smallest on top) or vectorByReverseValueHeap (bottomk: largest on top), where
 * NaN sorts as "less" than anything. Reproducing the exact sift steps makes ties and
 * NaNs select the same series as Prometheus does.
 */
export class GoHeap {
  private readonly values: number[] = [];
  private readonly ids: number[] = [];

  constructor(private readonly isTop: boolean) {}

  get size(): number {
    return this.values.length;
  }

  /** Starts a new heap holding one element, reusing the arrays. */
  reset(value: number, id: number): void {
    this.values.length = 1;
    this.ids.length = 1;
    this.values[0] = value;
    this.ids[0] = id;
  }

  /** Whether `value` should displace the element on top (the worst one kept). */
  isWorseThanTop(value: number): boolean {
    const top = this.values[0];
    if (Number.isNaN(top)) return true;
    return this.isTop ? top < value : top > value;
  }

  replaceTop(value: number, id: number): void {
    this.values[0] = value;
    this.ids[0] = id;
  }

  /** heap.Push: append, then sift up. */
  push(value: number, id: number): void {
    this.values.push(value);
    this.ids.push(id);
    this.up(this.values.length - 1);
  }

  /** heap.Pop: move the top to the end, sift the new top down, drop the end. */
  pop(): void {
    const n = this.values.length - 1;
    this.swap(0, n);
    this.down(0, n);
    this.values.pop();
    this.ids.pop();
  }

  /** The elements best first (sort.Reverse of the heap order); NaN last. */
  sortedBestFirst(): [id: number, value: number][] {
    const pairs = this.ids.map((id, i): [number, number] => [id, this.values[i]]);
    const sign = this.isTop ? -1 : 1;
    return pairs.sort(([, a], [, b]) => {
      if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
      return a === b ? 0 : (a < b ? -1 : 1) * sign;
    });
  }

  private less(i: number, j: number): boolean {
    const a = this.values[i];
    if (Number.isNaN(a)) return true;
    return this.isTop ? a < this.values[j] : a > this.values[j];
  }

  private swap(i: number, j: number): void {
    const v = this.values[i];
    this.values[i] = this.values[j];
    this.values[j] = v;
    const id = this.ids[i];
    this.ids[i] = this.ids[j];
    this.ids[j] = id;
  }

  private up(j: number): void {
    for (;;) {
      const i = Math.trunc((j - 1) / 2);
      if (i === j || !this.less(j, i)) break;
      this.swap(i, j);
      j = i;
    }
  }

  private down(i0: number, n: number): void {
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n || j1 < 0) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.less(j2, j1)) j = j2;
      if (!this.less(j, i)) break;
      this.swap(i, j);
      i = j;
    }
  }
}

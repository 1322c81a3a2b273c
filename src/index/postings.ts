/**
 * Postings: label name -> label value -> ascending series ids, as in Prometheus'
 * tsdb/index/postings.go, and selection by the four matchers with Prometheus' rules
 * for empty values (`{a=""}` selects series without label a).
 */
import { GrowableColumn, u32Column } from '../storage/column.ts';
import { intersect, subtract, unionAll } from '../storage/sorted-ids.ts';
import { compileMatcher, type CompiledMatcher, type Matcher } from './matcher.ts';

export class Postings {
  private readonly byName = new Map<string, Map<string, GrowableColumn<Uint32Array>>>();
  /** Every live series id, ascending: the universe negative matchers subtract from. */
  private all = u32Column();

  /** Indexes a new series; ids arrive in increasing order, so every list stays sorted. */
  addSeries(id: number, labels: [string, string][]): void {
    this.all.push(id);
    for (const [name, value] of labels) this.listFor(name, value).push(id);
  }

  private listFor(name: string, value: string): GrowableColumn<Uint32Array> {
    let values = this.byName.get(name);
    if (!values) {
      values = new Map();
      this.byName.set(name, values);
    }
    let list = values.get(value);
    if (!list) {
      list = u32Column(4);
      values.set(value, list);
    }
    return list;
  }

  /** Removes dead series (ascending ids) from the lists their labels are in. */
  remove(deadIds: Uint32Array, deadLabels: [string, string][][]): void {
    const touched = new Set<GrowableColumn<Uint32Array>>();
    for (const labels of deadLabels) {
      for (const [name, value] of labels) {
        const list = this.byName.get(name)?.get(value);
        if (list) touched.add(list);
      }
    }
    for (const list of touched) rewrite(list, subtract(list.view(), deadIds));
    rewrite(this.all, subtract(this.all.view(), deadIds));
    for (const [name, values] of this.byName) {
      for (const [value, list] of values) if (list.length === 0) values.delete(value);
      if (values.size === 0) this.byName.delete(name);
    }
  }

  get(name: string, value: string): Uint32Array {
    return this.byName.get(name)?.get(value)?.view() ?? new Uint32Array(0);
  }

  allIds(): Uint32Array {
    return this.all.view();
  }

  labelNames(): string[] {
    return [...this.byName.keys()].sort();
  }

  labelValues(name: string): string[] {
    return [...(this.byName.get(name)?.keys() ?? [])].sort();
  }

  /** Union of the lists of `name`'s values that satisfy `pred`. */
  private unionWhere(name: string, pred: (value: string) => boolean): Uint32Array {
    const values = this.byName.get(name);
    if (!values) return new Uint32Array(0);
    const lists: Uint32Array[] = [];
    for (const [value, list] of values) if (pred(value)) lists.push(list.view());
    return unionAll(lists);
  }

  /**
   * Series ids satisfying every matcher, ascending. Matchers that accept the empty
   * value also accept series lacking the label, so they are applied by subtracting
   * the complement; the rest are intersected (PostingsForMatchers in Prometheus).
   */
  select(matchers: Matcher[]): Uint32Array {
    const compiled = matchers.map(compileMatcher);
    const positive: Uint32Array[] = [];
    const negative: Uint32Array[] = [];
    for (const m of compiled) {
      if (m.matches('')) {
        // Accepts series without the label: remove those whose value it rejects.
        negative.push(this.unionWhere(m.name, (v) => !m.matches(v)));
      } else {
        positive.push(this.candidates(m));
      }
    }
    positive.sort((a, b) => a.length - b.length);
    let result = positive.length ? positive[0] : this.allIds();
    for (let i = 1; i < positive.length && result.length; i++) result = intersect(result, positive[i]);
    for (const n of negative) if (result.length && n.length) result = subtract(result, n);
    return result;
  }

  private candidates(m: CompiledMatcher): Uint32Array {
    if (m.op === '=') return this.get(m.name, m.value);
    return this.unionWhere(m.name, m.matches);
  }
}

function rewrite(list: GrowableColumn<Uint32Array>, ids: Uint32Array): void {
  const copy = ids.slice();
  list.clear();
  list.pushAll(copy);
}

import { COMPARISON_OPS, NAME_DROPPING_OPS, type BinaryExpr, type BinaryOp, type VectorMatching } from './ast.ts';
import { executionError } from './errors.ts';
import { dropMetricName, formatLabels, labelsKey, METRIC_NAME, type Label, type Labels } from './labels.ts';
import { mapVector } from './map-vector.ts';
import { FAST_PATHS } from './fast-paths.ts';
import { StepArena } from './step-arena.ts';
import { SeriesCollector, StepCursor, type Grid, type StepSeries, type StepSeriesBuilder, type Value } from './vector.ts';

/**
 * Binary operators with Prometheus 2.42's semantics (engine.go: scalarBinop,
 * VectorscalarBinop, VectorBinop, VectorAnd/Or/Unless): arithmetic drops the metric
 * name, comparisons filter unless `bool`, and vectors match one-to-one on their labels
 * (all but __name__, or as on/ignoring say).
 */
export function evalBinary(e: BinaryExpr, lhs: Value, rhs: Value, grid: Grid): Value {
  if (lhs.type === 'scalar' && rhs.type === 'scalar') {
    const out = new Float64Array(grid.numSteps);
    for (let i = 0; i < out.length; i++) out[i] = scalarBinop(e.op, lhs.values[i], rhs.values[i]);
    return { type: 'scalar', values: out };
  }
  if (lhs.type === 'vector' && rhs.type === 'scalar') {
    return { type: 'vector', series: vectorScalarBinop(e.op, lhs.series, rhs.values, false, e.returnBool, grid) };
  }
  if (lhs.type === 'scalar' && rhs.type === 'vector') {
    return { type: 'vector', series: vectorScalarBinop(e.op, rhs.series, lhs.values, true, e.returnBool, grid) };
  }
  if (lhs.type === 'vector' && rhs.type === 'vector' && e.matching) {
    return { type: 'vector', series: vectorBinop(e.op, lhs.series, rhs.series, e.matching, e.returnBool, grid) };
  }
  throw new Error(`binary ${e.op} between ${lhs.type} and ${rhs.type}`);
}

/** Go's math.Pow differs from `**` where the base is ±1 and the exponent NaN or infinite. */
function goPow(x: number, y: number): number {
  if (x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

function arithmetic(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return goPow(l, r);
    case 'atan2':
      return Math.atan2(l, r);
    default:
      throw new Error(`not an arithmetic operator: ${op}`);
  }
}

/** out[k] = l[k] op r[k] for every k of out: the four commonest operators with the switch out of the loop. */
function arithmeticInto(op: BinaryOp, l: Float64Array, r: Float64Array, out: Float64Array): void {
  const n = out.length;
  switch (op) {
    case '+':
      for (let k = 0; k < n; k++) out[k] = l[k] + r[k];
      return;
    case '-':
      for (let k = 0; k < n; k++) out[k] = l[k] - r[k];
      return;
    case '*':
      for (let k = 0; k < n; k++) out[k] = l[k] * r[k];
      return;
    case '/':
      for (let k = 0; k < n; k++) out[k] = l[k] / r[k];
      return;
    default:
      for (let k = 0; k < n; k++) out[k] = arithmetic(op, l[k], r[k]);
  }
}

function compare(op: BinaryOp, l: number, r: number): boolean {
  switch (op) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '>':
      return l > r;
    case '<':
      return l < r;
    case '>=':
      return l >= r;
    case '<=':
      return l <= r;
    default:
      throw new Error(`not a comparison operator: ${op}`);
  }
}

function scalarBinop(op: BinaryOp, l: number, r: number): number {
  return COMPARISON_OPS.has(op) ? (compare(op, l, r) ? 1 : 0) : arithmetic(op, l, r);
}

function vectorScalarBinop(
  op: BinaryOp,
  vector: readonly StepSeries[],
  scalar: Float64Array,
  scalarOnLeft: boolean,
  returnBool: boolean,
  grid: Grid,
): StepSeries[] {
  const isComparison = COMPARISON_OPS.has(op);
  const relabel = NAME_DROPPING_OPS.has(op) || returnBool ? dropMetricName : (l: Labels) => l;
  return mapVector(vector, grid, relabel, (v, step) => {
    const s = scalar[step];
    const [l, r] = scalarOnLeft ? [s, v] : [v, s];
    if (!isComparison) return arithmetic(op, l, r);
    const keep = compare(op, l, r);
    if (returnBool) return keep ? 1 : 0;
    // A comparison keeps the vector's value, whichever side the vector is on.
    return keep ? v : undefined;
  });
}

/** What identifies a series for matching: its labels restricted by on(...) or minus ignoring(...). */
function matchSignature(labels: Labels, matching: VectorMatching, names: ReadonlySet<string>): string {
  return labelsKey(signatureLabels(labels, matching, names));
}

function signatureLabels(labels: Labels, matching: VectorMatching, names: ReadonlySet<string>): Labels {
  return matching.on
    ? labels.filter((l) => names.has(l.name))
    : labels.filter((l) => l.name !== METRIC_NAME && !names.has(l.name));
}

/** Interns signatures as small integers so per-step matching works on typed arrays. */
class SignatureIds {
  private readonly ids = new Map<string, number>();
  idOf(sig: string): number {
    let id = this.ids.get(sig);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(sig, id);
    }
    return id;
  }
  get size(): number {
    return this.ids.size;
  }
}

function vectorBinop(
  op: BinaryOp,
  lhs: readonly StepSeries[],
  rhs: readonly StepSeries[],
  matching: VectorMatching,
  returnBool: boolean,
  grid: Grid,
): StepSeries[] {
  const names = new Set(matching.labels);
  const interned = new SignatureIds();
  const lhsSig = Int32Array.from(lhs, (s) => interned.idOf(matchSignature(s.labels, matching, names)));
  const rhsSig = Int32Array.from(rhs, (s) => interned.idOf(matchSignature(s.labels, matching, names)));
  const run = op === 'and' || op === 'or' || op === 'unless' ? setOperation : oneToOne;
  return run({ op, lhs, rhs, lhsSig, rhsSig, numSigs: interned.size, matching, names, returnBool, grid });
}

interface Join {
  op: BinaryOp;
  lhs: readonly StepSeries[];
  rhs: readonly StepSeries[];
  lhsSig: Int32Array;
  rhsSig: Int32Array;
  numSigs: number;
  matching: VectorMatching;
  names: ReadonlySet<string>;
  returnBool: boolean;
  grid: Grid;
}

/** and / or / unless: many-to-many, samples pass through with their own labels. */
function setOperation(j: Join): StepSeries[] {
  const collector = new SeriesCollector(j.grid.numSteps);
  const lhsOut = j.lhs.map((s) => collector.builderFor(s.labels, s.key));
  const rhsOut = j.rhs.map((s) => collector.builderFor(s.labels, s.key));
  const left = new StepCursor(j.lhs);
  const right = new StepCursor(j.rhs);
  // stamp[sig] === step + 1 marks signatures seen on the other side at this step.
  const stamp = new Int32Array(j.numSigs);
  for (let step = 0; step < j.grid.numSteps; step++) {
    left.advance(step);
    right.advance(step);
    const mark = step + 1;
    if (j.op === 'or') {
      for (let k = 0; k < left.count; k++) {
        stamp[j.lhsSig[left.present[k]]] = mark;
        lhsOut[left.present[k]].push(step, left.values[k]);
      }
      for (let k = 0; k < right.count; k++) {
        if (stamp[j.rhsSig[right.present[k]]] !== mark) rhsOut[right.present[k]].push(step, right.values[k]);
      }
      continue;
    }
    if (j.op === 'and' && right.count === 0) continue;
    for (let k = 0; k < right.count; k++) stamp[j.rhsSig[right.present[k]]] = mark;
    const wantMatch = j.op === 'and';
    for (let k = 0; k < left.count; k++) {
      const matched = stamp[j.lhsSig[left.present[k]]] === mark;
      if (matched === wantMatch) lhsOut[left.present[k]].push(step, left.values[k]);
    }
  }
  return collector.finish().filter((s) => s.steps.length > 0);
}

/** Arithmetic and comparisons between two vectors, one sample on each side per match. */
function oneToOne(j: Join): StepSeries[] {
  const unique = FAST_PATHS.oneToOneBySeries ? uniquePartners(j) : null;
  if (unique) return oneToOneBySeries(j, unique);
  const collector = new SeriesCollector(j.grid.numSteps);
  const isComparison = COMPARISON_OPS.has(j.op);
  const left = new StepCursor(j.lhs);
  const right = new StepCursor(j.rhs);
  const rhsAt = new Int32Array(j.numSigs);
  const rhsValue = new Float64Array(j.numSigs);
  const rhsStamp = new Int32Array(j.numSigs);
  const matchedStamp = new Int32Array(j.numSigs);
  const results = new ResultLabels(j, collector);
  for (let step = 0; step < j.grid.numSteps; step++) {
    left.advance(step);
    right.advance(step);
    if (left.count === 0 || right.count === 0) continue;
    const mark = step + 1;
    for (let k = 0; k < right.count; k++) {
      const r = right.present[k];
      const sig = j.rhsSig[r];
      if (rhsStamp[sig] === mark) throw duplicateOnRight(j, r, rhsAt[sig]);
      rhsStamp[sig] = mark;
      rhsAt[sig] = r;
      rhsValue[sig] = right.values[k];
    }
    for (let k = 0; k < left.count; k++) {
      const l = left.present[k];
      const sig = j.lhsSig[l];
      if (rhsStamp[sig] !== mark) continue;
      const lv = left.values[k];
      const rv = rhsValue[sig];
      let value: number;
      if (isComparison) {
        const keep = compare(j.op, lv, rv);
        if (!j.returnBool && !keep) continue;
        value = j.returnBool ? (keep ? 1 : 0) : lv;
      } else {
        value = arithmetic(j.op, lv, rv);
      }
      if (matchedStamp[sig] === mark) {
        throw executionError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
      }
      matchedStamp[sig] = mark;
      results.builderFor(l, rhsAt[sig]).push(step, value);
    }
  }
  return collector.finish().filter((s) => s.steps.length > 0);
}

/**
 * When no signature occurs twice on either side, each lhs series has at most one partner:
 * rhsOf[l] is its index on the right, or -1. Null when some signature repeats (then the
 * per-step path finds the duplicate, or its absence, step by step, as Prometheus does).
 */
function uniquePartners(j: Join): Int32Array | null {
  const rhsBySig = new Int32Array(j.numSigs).fill(-1);
  for (let r = 0; r < j.rhs.length; r++) {
    if (rhsBySig[j.rhsSig[r]] !== -1) return null;
    rhsBySig[j.rhsSig[r]] = r;
  }
  const lhsSeen = new Uint8Array(j.numSigs);
  const rhsOf = new Int32Array(j.lhs.length);
  for (let l = 0; l < j.lhs.length; l++) {
    const sig = j.lhsSig[l];
    if (lhsSeen[sig]) return null;
    lhsSeen[sig] = 1;
    rhsOf[l] = rhsBySig[sig];
  }
  return rhsOf;
}

/**
 * oneToOne for unique signatures: each pair's steps are merged in one walk. Result label
 * sets cannot collide (they are the signature, or the lhs labels when the name is kept),
 * and no step can see a duplicate, so the per-step checks have nothing to find.
 */
function oneToOneBySeries(j: Join, rhsOf: Int32Array): StepSeries[] {
  const isComparison = COMPARISON_OPS.has(j.op);
  const dropName = NAME_DROPPING_OPS.has(j.op) || j.returnBool;
  const out: StepSeries[] = [];
  const steps = new Int32Array(j.grid.numSteps);
  const values = new Float64Array(j.grid.numSteps);
  const arena = new StepArena();
  for (let l = 0; l < j.lhs.length; l++) {
    const r = rhsOf[l];
    if (r < 0) continue;
    const a = j.lhs[l];
    const b = j.rhs[r];
    const labels = resultLabels(j, dropName, a.labels);
    if (!isComparison && sameSteps(a.steps, b.steps)) {
      // Both at the same steps (e.g. two aggregations over the same targets): no merge, steps shared.
      const pairValues = new Float64Array(a.steps.length);
      arithmeticInto(j.op, a.values, b.values, pairValues);
      out.push({ labels, key: labelsKey(labels), steps: a.steps, values: pairValues });
      continue;
    }
    let n = 0;
    let ib = 0;
    for (let ia = 0; ia < a.steps.length; ia++) {
      const step = a.steps[ia];
      while (ib < b.steps.length && b.steps[ib] < step) ib++;
      if (ib === b.steps.length) break;
      if (b.steps[ib] !== step) continue;
      const lv = a.values[ia];
      const rv = b.values[ib];
      let value: number;
      if (isComparison) {
        const keep = compare(j.op, lv, rv);
        if (!j.returnBool && !keep) continue;
        value = j.returnBool ? (keep ? 1 : 0) : lv;
      } else {
        value = arithmetic(j.op, lv, rv);
      }
      steps[n] = step;
      values[n] = value;
      n++;
    }
    if (n === 0) continue;
    out.push({ labels, key: labelsKey(labels), ...arena.take(steps, values, n) });
  }
  return out;
}

/**
 * Whether two series' steps (ascending, distinct) are the same, and some: one array, or one
 * run of consecutive steps each, from the same first step.
 */
function sameSteps(a: Int32Array, b: Int32Array): boolean {
  const n = a.length;
  if (n === 0 || n !== b.length) return false;
  return a === b || (a[0] === b[0] && a[n - 1] - a[0] === n - 1 && b[n - 1] - b[0] === n - 1);
}

/** The labels of a matched pair's result (resultMetric), cached per (lhs, rhs) series pair. */
class ResultLabels {
  private readonly cache = new Map<number, StepSeriesBuilder>();
  private readonly dropName: boolean;

  constructor(
    private readonly j: Join,
    private readonly collector: SeriesCollector,
  ) {
    this.dropName = NAME_DROPPING_OPS.has(j.op) || j.returnBool;
  }

  builderFor(l: number, r: number): StepSeriesBuilder {
    const pair = l * this.j.rhs.length + r;
    let b = this.cache.get(pair);
    if (!b) {
      const labels = resultLabels(this.j, this.dropName, this.j.lhs[l].labels);
      b = this.collector.builderFor(labels, labelsKey(labels));
      this.cache.set(pair, b);
    }
    return b;
  }
}

/** One-to-one matching's result labels for an lhs series: its matched labels, without the name when dropName. */
function resultLabels(j: Join, dropName: boolean, lhs: Labels): Labels {
  const { matching, names } = j;
  return lhs.filter((label: Label) => {
    if (dropName && label.name === METRIC_NAME) return false;
    return matching.on ? names.has(label.name) : !names.has(label.name);
  });
}

function duplicateOnRight(j: Join, r: number, earlier: number): Error {
  const group = signatureLabels(j.rhs[r].labels, j.matching, j.names);
  return executionError(
    `found duplicate series for the match group ${formatLabels(group)} on the right hand-side of the operation: ` +
      `[${formatLabels(j.rhs[r].labels)}, ${formatLabels(j.rhs[earlier].labels)}]` +
      ';many-to-many matching not allowed: matching labels must be unique on one side',
  );
}

/**
 * Calendar fields of a Unix time computed the way Go's time package computes them for
 * time.Unix(int64(v), 0).UTC(), so the date functions agree with Prometheus for every
 * input: NaN, ±Inf and out-of-range values become Go's int64 "indefinite" value and
 * wrap around in Go's absolute-time arithmetic exactly as they do in Prometheus.
 */
export interface GoDate {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  /** 1..366 */
  yearDay: number;
  hour: number;
  minute: number;
  /** 0 = Sunday */
  weekday: number;
  daysInMonth: number;
}

const SECONDS_PER_DAY = 86_400n;
/** unixToInternal + internalToAbsolute from Go's time package. */
const UNIX_TO_ABSOLUTE = 9_223_372_028_715_321_600n;
const ABSOLUTE_ZERO_YEAR = -292_277_022_399n;
const DAYS_PER_400_YEARS = 146_097n;
const DAYS_PER_100_YEARS = 36_524n;
const DAYS_PER_4_YEARS = 1_461n;
const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
const INT64_INDEFINITE = -(2n ** 63n);

/** Go's float64 → int64 conversion on amd64: truncation, or the indefinite value. */
function goInt64(v: number): bigint {
  if (!Number.isFinite(v) || v >= 2 ** 63 || v < -(2 ** 63)) return INT64_INDEFINITE;
  return BigInt(Math.trunc(v));
}

function isLeap(year: bigint): boolean {
  return year % 4n === 0n && (year % 100n !== 0n || year % 400n === 0n);
}

export function goUnixDate(seconds: number): GoDate {
  const abs = BigInt.asUintN(64, goInt64(seconds) + UNIX_TO_ABSOLUTE);
  let d = abs / SECONDS_PER_DAY;
  let n = d / DAYS_PER_400_YEARS;
  let y = 400n * n;
  d -= DAYS_PER_400_YEARS * n;
  n = d / DAYS_PER_100_YEARS;
  n -= n >> 2n;
  y += 100n * n;
  d -= DAYS_PER_100_YEARS * n;
  n = d / DAYS_PER_4_YEARS;
  y += 4n * n;
  d -= DAYS_PER_4_YEARS * n;
  n = d / 365n;
  n -= n >> 2n;
  y += n;
  d -= 365n * n;
  const year = y + ABSOLUTE_ZERO_YEAR;
  const yday = Number(d);

  const leap = isLeap(year);
  let month: number;
  let day: number;
  if (leap && yday === 31 + 29 - 1) {
    month = 2;
    day = 29;
  } else {
    day = leap && yday > 31 + 29 - 1 ? yday - 1 : yday;
    month = Math.floor(day / 31);
    const end = DAYS_BEFORE[month + 1];
    let begin: number;
    if (day >= end) {
      month++;
      begin = end;
    } else {
      begin = DAYS_BEFORE[month];
    }
    month++;
    day = day - begin + 1;
  }
  const daysInMonth = month === 2 && leap ? 29 : DAYS_BEFORE[month] - DAYS_BEFORE[month - 1];
  return {
    year: Number(year),
    month,
    day,
    yearDay: yday + 1,
    hour: Number((abs % SECONDS_PER_DAY) / 3600n),
    minute: Number((abs % 3600n) / 60n),
    weekday: Number(((abs + SECONDS_PER_DAY) % (7n * SECONDS_PER_DAY)) / SECONDS_PER_DAY),
    daysInMonth,
  };
}

// Our schedules in the words of GitHub's `on.schedule`: five-field cron, always UTC, at most
// once every 5 minutes. A zone with one UTC offset all year converts exactly (the minutes and
// hours move, and the weekdays with them when a time crosses midnight); a zone with daylight
// saving time gets the schedule of the offset in effect now, and a warning that names which
// local times move while the other offset holds. What cannot be said exactly is said nearly,
// always with a warning: nothing is dropped quietly.
import { CronPattern } from 'croner';
import { formatDuration, parseDuration } from '../duration';

export interface GithubSchedule {
  /** Cron lines for `on.schedule`; empty when the schedule cannot be expressed at all. */
  crons: string[];
  warnings: string[];
}

const DAY = 1440;
/** GitHub runs scheduled workflows at most this often. */
export const GITHUB_MIN_INTERVAL_MINUTES = 5;

/** The zone's UTC offset in minutes at `t` (Intl's "GMT+05:30"). */
const formats = new Map<string, Intl.DateTimeFormat>();

export function utcOffsetMinutes(tz: string, t: number): number {
  let format = formats.get(tz);
  if (!format) formats.set(tz, (format = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })));
  const name = format.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/** The zone's offsets through the calendar year of `now`, in periods (the same months each year). */
const years = new Map<string, { offset: number; from: number; until: number }[]>();

function offsetsOfYear(tz: string, now: number): { offset: number; from: number; until: number }[] {
  const year = new Date(now).getUTCFullYear();
  const known = years.get(`${tz} ${year}`);
  if (known) return known;
  const periods: { offset: number; from: number; until: number }[] = [];
  years.set(`${tz} ${year}`, periods);
  const step = 3 * 3_600_000; // zone changes are at least this far apart
  for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += step) {
    const offset = utcOffsetMinutes(tz, t);
    const last = periods[periods.length - 1];
    if (last && last.offset === offset) last.until = t;
    else periods.push({ offset, from: t, until: t });
  }
  return periods;
}

export function formatOffset(minutes: number): string {
  const a = Math.abs(minutes);
  return `UTC${minutes < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const monthOf = (t: number) => new Date(t).toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });

/** Every minute of the day (0..1439) the minute and hour fields name, as croner's own parser reads them. */
function minutesOfDay(minute: string, hour: string): number[] {
  const p = new CronPattern(`${minute} ${hour} * * *`);
  const out: number[] = [];
  for (let h = 0; h < 24; h++) if (p.hour[h]) for (let m = 0; m < 60; m++) if (p.minute[m]) out.push(h * 60 + m);
  return out;
}

/** A sorted list of values as a cron field: `*`, ranges, steps and lists, as a person would write it. */
export function cronField(values: number[], min: number, max: number): string {
  const v = [...new Set(values)].sort((a, b) => a - b);
  if (v.length === max - min + 1) return '*';
  if (v.length >= 3) {
    const step = v[1] - v[0];
    if (step > 1 && v.every((x, i) => x === v[0] + i * step)) {
      if (v[0] === min && v[v.length - 1] + step > max) return `*/${step}`;
      return `${v[0]}-${v[v.length - 1]}/${step}`;
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < v.length; ) {
    let j = i;
    while (j + 1 < v.length && v[j + 1] === v[j] + 1) j++;
    parts.push(j - i >= 2 ? `${v[i]}-${v[j]}` : j === i ? `${v[i]}` : `${v[i]},${v[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The weekdays a day-of-week field names (0 = Sunday), or undefined when it is not plain cron. */
function weekdays(field: string): number[] | undefined {
  const out = new Set<number>();
  for (const part of field.toUpperCase().split(',')) {
    const m = /^(\*|[0-7A-Z]{1,3})(?:-([0-7A-Z]{1,3}))?(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const num = (s: string) => (/^\d$/.test(s) ? Number(s) % 7 : WEEKDAYS.indexOf(s));
    const from = m[1] === '*' ? 0 : num(m[1]);
    let to = m[2] !== undefined ? num(m[2]) : m[1] === '*' || m[3] ? 6 : from;
    if (m[2] === '7') to = 7;
    if (from < 0 || to < 0) return undefined;
    for (let d = from; d <= to; d += Number(m[3] ?? 1)) out.add(d % 7);
  }
  return [...out];
}

/** GitHub's cron takes numbers, names, `*`, `,`, `-` and `/`; croner also knows L, W, # and ?. */
const PLAIN_FIELD = /^[0-9A-Za-z*,\-/]+$/;
const EXTENDED = /[LW#]/i;

/**
 * A cron expression of ours (5 or 6 fields, croner's dialect, optional zone) as GitHub schedules.
 * `now` says which year's daylight saving rules are read.
 */
export function githubSchedule(expr: string, tz: string | undefined, now: number): GithubSchedule {
  const warnings: string[] = [];
  let fields = expr.trim().split(/\s+/).map((f) => (f === '?' ? '*' : f));
  if (fields.length === 6) {
    const seconds = fields[0];
    if (seconds !== '0') warnings.push(`"${expr}" has a seconds field (${seconds}); GitHub's cron has none, so it runs at second 0 of each minute it names${/^\d+$/.test(seconds) ? '' : ', once a minute instead of several times'}`);
    fields = fields.slice(1);
  }
  const [minute, hour, dom, month, dow] = fields;
  if (fields.some((f) => !PLAIN_FIELD.test(f) || EXTENDED.test(f.replace(/(JUL|WED|APR|JUN|AUG|OCT|NOV|DEC|JAN|FEB|MAR|MAY|SEP|SUN|MON|TUE|THU|FRI|SAT)/gi, '')))) {
    return { crons: [], warnings: [`"${expr}" uses cron syntax GitHub does not have (L, W, # or ?); no schedule exported — rewrite it with numbers, ranges and steps`] };
  }
  if (tz === undefined) {
    warnings.push(`"${expr}" has no tz, so it runs in the local time of each machine; GitHub runs it in UTC — add tz: to say which zone it means`);
    return { crons: [fields.join(' ')], warnings };
  }
  // Standard time (the smaller offset: daylight saving time moves clocks ahead) rather than the
  // offset of today, so that exporting in summer and checking in winter agree.
  const periods = offsetsOfYear(tz, now);
  const chosen = Math.min(...periods.map((p) => p.offset));
  const crons = shifted(minute, hour, dom, month, dow, chosen, expr, tz, warnings);
  const others = [...new Set(periods.map((p) => p.offset))].filter((o) => o !== chosen);
  for (const other of others) {
    if (shifted(minute, hour, dom, month, dow, other, expr, tz, []).join('\n') === crons.join('\n')) continue; // e.g. every hour: an offset of whole hours changes nothing
    // Daylight saving time in the southern hemisphere spans the new year: it ends one period and starts another.
    const mine = periods.filter((x) => x.offset === other);
    const p = mine.length > 1 ? { from: mine[mine.length - 1].from, until: mine[0].until } : mine[0];
    const delta = other - chosen;
    const times = minutesOfDay(minute, hour);
    // Local time then is UTC + other = the time meant + delta.
    const moved = times.slice(0, 4).map((m) => `${hhmm(m)} → ${hhmm((((m + delta) % DAY) + DAY) % DAY)}`);
    warnings.push(
      `${tz} has daylight saving time: the schedule is exported for ${formatOffset(chosen)}, its standard time. While ${tz} is at ${formatOffset(other)} (from about ${monthOf(p.from)} to ${monthOf(p.until)}) ` +
        `it runs ${formatDuration(Math.abs(delta) * 60_000)} ${delta > 0 ? 'late' : 'early'} in local time: ${moved.join(', ')}${times.length > 4 ? `, and ${times.length - 4} more` : ''}`,
    );
  }
  return { crons, warnings };
}

/** The fields moved from a zone `offset` minutes ahead of UTC to UTC; grouped into as few lines as are exact. */
function shifted(minute: string, hour: string, dom: string, month: string, dow: string, offset: number, expr: string, tz: string, warnings: string[]): string[] {
  if (offset === 0) return [[minute, hour, dom, month, dow].join(' ')];
  const everyDay = dom === '*' && month === '*' && dow === '*'; // then crossing midnight changes no day field
  const byDayShift = new Map<number, Map<number, number[]>>(); // day shift → UTC minute → UTC hours
  for (const local of minutesOfDay(minute, hour)) {
    const utc = local - offset;
    const shift = everyDay ? 0 : Math.floor(utc / DAY);
    const m = ((utc % DAY) + DAY) % DAY;
    const hours = byDayShift.get(shift) ?? new Map<number, number[]>();
    byDayShift.set(shift, hours);
    const list = hours.get(m % 60) ?? [];
    list.push(Math.floor(m / 60));
    hours.set(m % 60, list);
  }
  const lines: string[] = [];
  let inexactDays = false;
  for (const [shift, byMinute] of [...byDayShift].sort((a, b) => a[0] - b[0])) {
    let days = `${dom} ${month} ${dow}`;
    if (shift !== 0) {
      const wd = dow === '*' ? undefined : weekdays(dow);
      if (dom === '*' && month === '*' && wd) days = `* * ${cronField(wd.map((d) => (d + shift + 7) % 7), 0, 6)}`;
      else inexactDays = true; // days of the month do not move exactly across month ends
    }
    // Minutes with the same hours share a line.
    const byHours = new Map<string, number[]>();
    for (const [m, hours] of byMinute) {
      const key = cronField(hours, 0, 23);
      byHours.set(key, [...(byHours.get(key) ?? []), m]);
    }
    for (const [hours, minutes] of byHours) lines.push(`${cronField(minutes, 0, 59)} ${hours} ${days}`);
  }
  if (inexactDays) {
    warnings.push(`"${expr}" in ${tz} crosses midnight in UTC, and its day-of-month or month field cannot move with it exactly; GitHub runs it on those days in UTC`);
  }
  return lines.sort();
}

/** The nearest GitHub schedule for a fixed interval (cron steps that divide the hour or the day). */
export function githubInterval(every: string): GithubSchedule {
  const minutes = parseDuration(every, 'every') / 60_000;
  const exact: [number, string][] = [
    ...[5, 6, 10, 12, 15, 20, 30].map((m) => [m, `*/${m} * * * *`] as [number, string]),
    [60, '0 * * * *'],
    ...[2, 3, 4, 6, 8, 12].map((h) => [h * 60, `0 */${h} * * *`] as [number, string]),
    [DAY, '0 0 * * *'],
    [7 * DAY, '0 0 * * 0'],
  ];
  const hit = exact.find(([m]) => m === minutes);
  if (hit) return { crons: [hit[1]], warnings: [] };
  const [near, cron] = exact.reduce((best, c) => (Math.abs(Math.log(c[0] / minutes)) < Math.abs(Math.log(best[0] / minutes)) ? c : best));
  const why =
    minutes < GITHUB_MIN_INTERVAL_MINUTES
      ? `is under GitHub's ${GITHUB_MIN_INTERVAL_MINUTES}-minute minimum`
      : 'is not a step a cron schedule can keep (it must divide an hour or a day)';
  return { crons: [cron], warnings: [`every ${every} ${why}; exported as every ${formatDuration(near * 60_000)} (${cron})`] };
}

import { el } from './elements';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** Local date and time for display; unparseable input is shown as it came. */
export function formatTime(iso: string): string {
  const at = Date.parse(iso);
  return Number.isFinite(at) ? dateTime.format(at) : iso;
}

/** A `<time>` with the exact UTC timestamp in its tooltip. */
export function timeElement(iso: string): HTMLTimeElement {
  return el('time', { attrs: { datetime: iso, title: iso } }, formatTime(iso));
}

import { outcomeText } from '../../core/report/outcomeText';
import { el } from './elements';

/** The outcome as an icon and a word, coloured by a class; the icon is decoration for screen readers. */
export function outcomeBadge(state: string): HTMLSpanElement {
  const { icon, label } = outcomeText(state);
  return el(
    'span',
    { className: `outcome outcome-${/^[a-z]+$/.test(state) ? state : 'unknown'}` },
    el('span', { className: 'outcome-icon', attrs: { 'aria-hidden': 'true' } }, icon),
    ' ',
    label,
  );
}

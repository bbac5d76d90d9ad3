// The commit graph drawn beside the version rows: one lane per branch (lanes come from
// the server), a dot per version, a line to each parent.
import { ILogEntry } from './wire';

export const ROW = 52;
const LANE = 14;
const SVG_NS = 'http://www.w3.org/2000/svg';

export function drawGraph(versions: ILogEntry[], lanes: number): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  const width = Math.max(1, lanes) * LANE + 6;
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(versions.length * ROW));
  svg.classList.add('jp-mvc-graph');
  const row = new Map(versions.map((v, i) => [v.id, i]));
  const x = (lane: number) => 8 + lane * LANE;
  const y = (i: number) => i * ROW + ROW / 2;
  versions.forEach((v, i) => {
    for (const parent of v.parents) {
      const j = row.get(parent);
      const path = document.createElementNS(SVG_NS, 'path');
      if (j === undefined) {
        path.setAttribute('d', `M${x(v.lane)},${y(i)} V${versions.length * ROW}`); // parent not listed
      } else {
        const p = versions[j];
        // Down in the child's lane, then across into the parent's lane just above it.
        path.setAttribute('d', `M${x(v.lane)},${y(i)} V${y(j) - ROW / 2} L${x(p.lane)},${y(j)}`);
      }
      path.classList.add('jp-mvc-edge', `jp-mvc-lane-${v.lane % 6}`);
      svg.appendChild(path);
    }
  });
  versions.forEach((v, i) => {
    const dot = document.createElementNS(SVG_NS, 'circle');
    dot.setAttribute('cx', String(x(v.lane)));
    dot.setAttribute('cy', String(y(i)));
    dot.setAttribute('r', v.is_head ? '5' : '4');
    dot.classList.add('jp-mvc-dot', `jp-mvc-lane-${v.lane % 6}`);
    if (v.is_head) {
      dot.classList.add('jp-mvc-head');
    }
    svg.appendChild(dot);
  });
  return svg;
}

export function age(seconds: number, now = Date.now() / 1000): string {
  const d = Math.max(0, now - seconds);
  if (d < 60) {
    return 'just now';
  }
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['min', 60]] as [string, number][]) {
    if (d >= size) {
      return `${Math.floor(d / size)} ${unit} ago`;
    }
  }
  return '';
}

export function num(value: unknown): string {
  return typeof value === 'number' ? String(Number(value.toPrecision(4))) : String(value);
}

import { markup, type SafeHtml } from './html';

export interface Series {
  /** the statuses this series adds up */
  statuses: string[];
  label: string;
  color: string;
}

export interface Bar {
  label: string;
  counts: Record<string, number>;
}

const W = 760;
const H = 230;
const M = { top: 12, right: 12, bottom: 34, left: 44 };

function niceMax(max: number): number {
  if (max <= 5) return 5;
  const mag = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * mag >= max) return step * mag;
  return 10 * mag;
}

/** A stacked bar chart as inline SVG: one bar per label, one colour per series; numbers only reach the markup. */
export function stackedBars(title: string, bars: Bar[], series: Series[]): SafeHtml {
  const totals = bars.map((b) =>
    series.reduce((n, s) => n + s.statuses.reduce((m, st) => m + (b.counts[st] ?? 0), 0), 0),
  );
  const top = niceMax(Math.max(0, ...totals));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const slot = plotW / Math.max(1, bars.length);
  const barW = Math.max(2, slot * 0.75);
  const y = (v: number) => M.top + plotH - (v / top) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(top * f));
  const labelEvery = Math.ceil(bars.length / 10);
  const rects = bars.map((b, i) => {
    let acc = 0;
    const x = M.left + i * slot + (slot - barW) / 2;
    return series.map((s) => {
      const v = s.statuses.reduce((m, st) => m + (b.counts[st] ?? 0), 0);
      if (!v) return '';
      const y0 = y(acc + v);
      const h = y(acc) - y0;
      acc += v;
      return markup`<rect
        x="${x.toFixed(1)}"
        y="${y0.toFixed(1)}"
        width="${barW.toFixed(1)}"
        height="${h.toFixed(1)}"
        fill="${s.color}"
        ><title>${b.label}: ${v} ${s.label}</title></rect
      >`;
    });
  });
  return markup`<svg
    class="chart"
    role="img"
    aria-label="${title}"
    viewBox="0 0 ${W} ${H}"
    width="${W}"
    height="${H}"
    xmlns="http://www.w3.org/2000/svg"
    font-size="11"
    font-family="system-ui,sans-serif"
  >
    <title>${title}</title>
    ${ticks.map(
      (t) =>
        markup`<line
            x1="${M.left}"
            x2="${W - M.right}"
            y1="${y(t).toFixed(1)}"
            y2="${y(t).toFixed(1)}"
            stroke="#d0d7de"
            stroke-width="1"
          /><text x="${M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end" fill="#656d76">${t}</text>`,
    )}
    ${rects}
    ${bars.map((b, i) =>
      i % labelEvery === 0
        ? markup`<text
            x="${(M.left + i * slot + slot / 2).toFixed(1)}"
            y="${H - M.bottom + 14}"
            text-anchor="middle"
            fill="#656d76"
            >${b.label.slice(5)}</text
          >`
        : '',
    )}
    ${series.map(
      (s, i) =>
        markup`<rect x="${M.left + i * 110}" y="${H - 12}" width="10" height="10" fill="${s.color}" /><text
            x="${M.left + i * 110 + 14}"
            y="${H - 3}"
            fill="#1f2328"
            >${s.label}</text
          >`,
    )}
  </svg>`;
}

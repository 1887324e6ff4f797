/** A small SVG line chart of a series of rates (no charting library: it is one path). */
export function RateChart({ values, label, width = 320, height = 64 }: { values: number[]; label: string; width?: number; height?: number }) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  const last = values.length > 0 ? values[values.length - 1]! : 0;
  return (
    <figure class="chart">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}: now ${fmtRate(last)} events/s, peak ${fmtRate(max)}`}>
        <line x1="0" y1={height - 1} x2={width} y2={height - 1} class="axis" />
        {values.length > 1 && <polyline points={points} class="line" fill="none" />}
      </svg>
      <figcaption>{label}: {fmtRate(last)}/s <span class="muted">(peak {fmtRate(max)}/s)</span></figcaption>
    </figure>
  );
}

export function fmtRate(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

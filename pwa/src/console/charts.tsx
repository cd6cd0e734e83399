// Inline SVG charts (no chart library): vertical bars, horizontal bars, a line with a target line.
import { t } from "../i18n";

export function Bars({ values, labels, title, height = 160 }: { values: number[]; labels: string[]; title: string; height?: number }) {
  const max = Math.max(1, ...values);
  const w = 100 / values.length;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 100 ${height / 4}`} preserveAspectRatio="none" class="bars" role="img" aria-label={title}>
        {values.map((v, i) => {
          const h = (v / max) * (height / 4 - 1);
          return (
            <rect key={i} x={i * w + w * 0.15} y={height / 4 - h} width={w * 0.7} height={h} class="bar">
              <title>{`${labels[i]}: ${v}`}</title>
            </rect>
          );
        })}
      </svg>
      <div class="axis" style={{ gridTemplateColumns: `repeat(${values.length}, 1fr)` }}>
        {labels.map((l, i) => <span key={i}>{i % Math.ceil(labels.length / 12) === 0 ? l : ""}</span>)}
      </div>
    </figure>
  );
}

export function HBars({ rows, title }: { rows: [string, number][]; title: string }) {
  const max = Math.max(1, ...rows.map(([, v]) => v));
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      {rows.length === 0 && <p class="small">{t("c_none")}</p>}
      <svg viewBox={`0 0 300 ${rows.length * 22}`} class="hbars" role="img" aria-label={title}>
        {rows.map(([label, v], i) => (
          <g key={label} transform={`translate(0 ${i * 22})`}>
            <text x="0" y="15" class="lbl">{label}</text>
            <rect x="90" y="4" height="14" width={(v / max) * 180} class="bar" />
            <text x={96 + (v / max) * 180} y="15" class="val">{v}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** Ratios (0..1, or null where nothing was judged) with the target as a dashed line. */
export function Trend({ points, target, title }: { points: { label: string; value: number | null }[]; target: number; title: string }) {
  const W = 300, H = 120, pad = 20;
  const x = (i: number) => pad + (i * (W - 2 * pad)) / Math.max(1, points.length - 1);
  const y = (v: number) => H - pad - v * (H - 2 * pad);
  const known = points.map((p, i) => [i, p.value] as const).filter(([, v]) => v !== null) as [number, number][];
  const path = known.map(([i, v], n) => `${n ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} class="trend" role="img" aria-label={title}>
        <line x1={pad} x2={W - pad} y1={y(target)} y2={y(target)} class="target" />
        <text x={W - pad} y={y(target) - 3} class="lbl end">{t("c_target")} {Math.round(target * 100)}%</text>
        <line x1={pad} x2={W - pad} y1={y(0)} y2={y(0)} class="base" />
        <path d={path} class="line" />
        {known.map(([i, v]) => (
          <circle key={i} cx={x(i)} cy={y(v)} r="3" class={v >= target ? "dot ok" : "dot bad"}>
            <title>{`${points[i].label}: ${(v * 100).toFixed(1)}%`}</title>
          </circle>
        ))}
        {points.map((p, i) => (i % Math.ceil(points.length / 7) === 0 ? <text key={i} x={x(i)} y={H - 4} class="lbl mid">{p.label}</text> : null))}
      </svg>
    </figure>
  );
}

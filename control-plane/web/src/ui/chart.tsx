import { useEffect, useRef } from 'preact/hooks'
import type UPlotClass from 'uplot'
import { loadCss } from '../config'
import { lang } from '../i18n'
import { localiseDateTemplate, VI_DATE_NAMES } from './chart-dates'

export interface ChartSeries {
  label: string
  color: string
  values: (number | null)[]
}

interface Props {
  /** x values: unix seconds for time charts, or 0..n-1 with `categories` for bar-like charts. */
  x: number[]
  series: ChartSeries[]
  height?: number
  /** Category labels instead of times on the x axis (reports by unit or month). */
  categories?: string[]
  bars?: boolean
  label: string
  testId?: string
}

/** A uPlot chart (loaded only where a page shows one); it follows its box's width. */
export function Chart({ x, series, height = 200, categories, bars, label, testId }: Props) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    let plot: UPlotClass | null = null
    let observer: ResizeObserver | null = null
    let cancelled = false
    void (async () => {
      const [mod, css] = await Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css?url')])
      await loadCss('uplot-css', css.default)
      const el = box.current
      if (cancelled || !el) return
      const UPlot = (mod as unknown as { default: typeof UPlotClass }).default
      const paths = bars ? UPlot.paths.bars?.({ size: [0.6, 60] }) : undefined
      plot = new UPlot(
        {
          width: Math.max(200, el.clientWidth),
          height,
          title: label,
          fmtDate: (tpl) => {
            const l = lang()
            return UPlot.fmtDate(localiseDateTemplate(tpl, l), l === 'vi' ? VI_DATE_NAMES : undefined)
          },
          legend: { show: series.length > 1 },
          scales: { x: { time: !categories } },
          axes: [
            categories ? { values: (_u, ticks) => ticks.map((i) => categories[i] ?? '') } : {},
            { size: 50 },
          ],
          series: [
            { label: '' },
            ...series.map((s) => ({
              label: s.label,
              stroke: s.color,
              fill: bars ? `${s.color}aa` : undefined,
              width: bars ? 0 : 2,
              paths,
            })),
          ],
        },
        [x, ...series.map((s) => s.values)],
        el,
      )
      observer = new ResizeObserver(() => plot?.setSize({ width: Math.max(200, el.clientWidth), height }))
      observer.observe(el)
    })()
    return () => {
      cancelled = true
      observer?.disconnect()
      plot?.destroy()
    }
  }, [x, series, height, categories, bars])
  return <div ref={box} class="chart" role="img" aria-label={label} data-testid={testId} />
}

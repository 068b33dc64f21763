import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PieController,
  PointElement,
  Tooltip,
} from 'chart.js'

Chart.register(
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PieController,
  PointElement,
  Tooltip,
)

export const barOptions = {
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  interaction: { mode: 'index', intersect: false },
  plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
  scales: {
    x: { stacked: true, ticks: { maxRotation: 60, autoSkip: true } },
    y: { stacked: true, min: 0, max: 100, title: { display: true, text: 'share of emotion (%)' } },
    y1: {
      position: 'right',
      min: 0,
      max: 100,
      grid: { drawOnChartArea: false },
      title: { display: true, text: 'confidence (%)' },
    },
  },
}

export const perQuestionOptions = {
  indexAxis: 'y',
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
  scales: {
    x: { stacked: true, min: 0, max: 100, title: { display: true, text: 'share of emotion (%)' } },
    y: { stacked: true },
  },
}

export const pieOptions = {
  responsive: true,
  maintainAspectRatio: false,
  animation: false,
  plugins: {
    legend: { position: 'bottom', labels: { boxWidth: 12 } },
    tooltip: { callbacks: { label: (ctx) => `${ctx.label}: ${ctx.parsed}%` } },
  },
}

/** Draws question boundaries (dashed line + "Q2 ✓") at the bucket where each question starts. */
export const questionMarkersPlugin = {
  id: 'questionMarkers',
  afterDatasetsDraw(chart, _args, opts) {
    const markers = opts?.markers || []
    const x = chart.scales.x
    const area = chart.chartArea
    if (!x || !area || !markers.length) return
    const { ctx } = chart
    ctx.save()
    ctx.font = '11px Roboto, sans-serif'
    ctx.textBaseline = 'top'
    for (const m of markers) {
      if (m.index < 0) continue
      const pos = x.getPixelForValue(m.index) - (x.width / Math.max(1, x.ticks.length)) / 2
      ctx.strokeStyle = '#37474f'
      ctx.setLineDash([4, 3])
      ctx.beginPath()
      ctx.moveTo(pos, area.top)
      ctx.lineTo(pos, area.bottom)
      ctx.stroke()
      ctx.setLineDash([])
      ctx.fillStyle = m.correct === true ? '#2e7d32' : m.correct === false ? '#c62828' : '#37474f'
      ctx.fillText(m.label, pos + 3, area.top + 2)
    }
    ctx.restore()
  },
}

/** Options of the timeline: n per bar in the tooltip (`footer`), question markers. */
export function timelineOptions(footer, markers) {
  return {
    ...barOptions,
    plugins: {
      ...barOptions.plugins,
      tooltip: { callbacks: { footer: (items) => (items.length ? footer(items[0].dataIndex) : '') } },
      questionMarkers: { markers },
    },
  }
}

/** Per-question bars with the first label never clipped on phones. */
export const perQuestionPhoneOptions = {
  ...perQuestionOptions,
  layout: { padding: { left: 6 } },
  scales: { ...perQuestionOptions.scales, y: { stacked: true, ticks: { autoSkip: false, font: { size: 11 } } } },
}

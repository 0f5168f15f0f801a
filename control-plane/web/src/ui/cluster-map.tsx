import { useEffect, useRef } from 'preact/hooks'
import { consoleConfig, loadCss } from '../config'
import type { ClusterState } from './badge'

export interface MapPoint {
  id: string
  name: string
  lat: number
  lon: number
  state: ClusterState
  group: string
  href: string
}

const COLORS: Record<ClusterState, string> = {
  online: '#1b7f3b',
  offline: '#6b7480',
  playing: '#6a3fb3',
  fault: '#b3261e',
}

type Leaflet = typeof import('leaflet')

/**
 * Cluster positions on a Leaflet map, loaded only when a page shows a map. With a tile URL configured the map has
 * tiles; without (an offline province network) it is a plain background with a scale bar, each commune's clusters
 * framed and named, which is enough to see where the silent loudspeakers are.
 */
export function ClusterMap({ points, label }: { points: MapPoint[]; label: string }) {
  const box = useRef<HTMLDivElement>(null)
  const map = useRef<{ L: Leaflet; map: import('leaflet').Map; layer: import('leaflet').LayerGroup } | null>(
    null,
  )

  useEffect(() => {
    let cancelled = false
    void (async () => {
      const [mod, css, config] = await Promise.all([
        import('leaflet'),
        import('leaflet/dist/leaflet.css?url'),
        consoleConfig(),
      ])
      await loadCss('leaflet-css', css.default)
      if (cancelled || !box.current) return
      const L = ((mod as { default?: Leaflet }).default ?? mod) as Leaflet
      const m = L.map(box.current, { zoomControl: true, attributionControl: Boolean(config.mapTileUrl) })
      if (config.mapTileUrl) {
        L.tileLayer(config.mapTileUrl, { attribution: config.mapTileAttribution, maxZoom: 19 }).addTo(m)
      } else box.current.classList.add('map-offline')
      L.control.scale({ imperial: false }).addTo(m)
      m.setView([16, 108], 6)
      map.current = { L, map: m, layer: L.layerGroup().addTo(m) }
      draw(map.current, points)
    })()
    return () => {
      cancelled = true
      map.current?.map.remove()
      map.current = null
    }
    // The map is made once; points are redrawn by the effect below.
  }, [])

  useEffect(() => {
    if (map.current) draw(map.current, points)
  }, [points])

  return <div ref={box} class="map" role="img" aria-label={label} data-testid="cluster-map" />
}

function draw(
  m: { L: Leaflet; map: import('leaflet').Map; layer: import('leaflet').LayerGroup },
  points: MapPoint[],
): void {
  const { L, layer } = m
  layer.clearLayers()
  const groups = new Map<string, MapPoint[]>()
  for (const p of points) groups.set(p.group, [...(groups.get(p.group) ?? []), p])
  for (const [name, ps] of groups) {
    const bounds = L.latLngBounds(ps.map((p) => [p.lat, p.lon] as [number, number])).pad(0.2)
    // Leaflet puts a string into innerHTML: names are user input, so they go in as a text node.
    L.rectangle(bounds, { color: '#0b5cad', weight: 1, dashArray: '4 4', fill: false })
      .bindTooltip(textElement('span', name), { permanent: true, direction: 'top', className: 'map-group' })
      .addTo(layer)
  }
  for (const p of points) {
    const marker = L.circleMarker([p.lat, p.lon], {
      radius: 8,
      color: '#fff',
      weight: 2,
      fillColor: COLORS[p.state],
      fillOpacity: 1,
    })
    const a = textElement('a', p.name)
    a.href = p.href
    marker.bindPopup(a).addTo(layer)
  }
  if (points.length > 0) {
    m.map.fitBounds(L.latLngBounds(points.map((p) => [p.lat, p.lon] as [number, number])).pad(0.3), {
      maxZoom: 15,
    })
  }
}

/**
 * An element holding `text` as text: what Leaflet's tooltips and popups get, never a string (which Leaflet sets
 * as HTML, so a unit named `<img onerror=…>` would run in the reader's browser).
 */
function textElement<K extends keyof HTMLElementTagNameMap>(tag: K, text: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  el.textContent = text
  return el
}

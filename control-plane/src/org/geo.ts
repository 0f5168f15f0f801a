import type { Circle, LatLon } from './model.js'

const EARTH_RADIUS_KM = 6371.0088

/** Great-circle distance (haversine), in km. */
export function distanceKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180
  const dLat = (b[0] - a[0]) * rad
  const dLon = (b[1] - a[1]) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * rad) * Math.cos(b[0] * rad) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)))
}

export function inCircle(p: LatLon, c: Circle): boolean {
  return distanceKm(p, [c.lat, c.lon]) <= c.radiusKm
}

/**
 * Ray casting on [lat, lon] treated as plane coordinates: alert areas are province-sized, far from the poles and
 * the antimeridian, where the distortion does not matter. Points on an edge may fall either way.
 */
export function inPolygon(p: LatLon, ring: LatLon[]): boolean {
  const [y, x] = p
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [yi, xi] = ring[i] as LatLon
    const [yj, xj] = ring[j] as LatLon
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

/** Problems with a ring: fewer than 4 points, not closed, coordinates out of range. */
export function ringProblem(ring: LatLon[]): string | null {
  if (ring.length < 4) return 'needs at least 4 points (a closed ring)'
  for (const [i, [lat, lon]] of ring.entries()) {
    if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return `point ${i}: latitude/longitude out of range`
  }
  const first = ring[0] as LatLon
  const last = ring[ring.length - 1] as LatLon
  if (first[0] !== last[0] || first[1] !== last[1]) return 'first and last points must be equal (closed ring)'
  return null
}

import type { ControlPlaneHandle } from './control-plane.js'

export interface Cluster {
  id: string
  unitId: string
}

/**
 * A small province: Tỉnh Thử → two communes (one with a village below it) and their clusters.
 *   xa-an-binh:  c-ab-1, c-ab-2, and c-ab-thon-1 in thon-1 (a village below the commune)
 *   xa-hoa-phu:  c-hp-1
 */
export async function seedProvince(
  cp: ControlPlaneHandle,
): Promise<{ inAnBinh: Cluster[]; inHoaPhu: Cluster[] }> {
  await cp.api('POST', '/api/units', { id: 'tinh-thu', name: 'Tỉnh Thử', kind: 'province', parentId: null })
  await cp.api('POST', '/api/units', {
    id: 'xa-an-binh',
    name: 'Xã An Bình',
    kind: 'commune',
    parentId: 'tinh-thu',
  })
  await cp.api('POST', '/api/units', {
    id: 'thon-1',
    name: 'Thôn 1',
    kind: 'village',
    parentId: 'xa-an-binh',
  })
  await cp.api('POST', '/api/units', {
    id: 'xa-hoa-phu',
    name: 'Xã Hòa Phú',
    kind: 'commune',
    parentId: 'tinh-thu',
  })
  const inAnBinh: Cluster[] = [
    { id: 'c-ab-1', unitId: 'xa-an-binh' },
    { id: 'c-ab-2', unitId: 'xa-an-binh' },
    { id: 'c-ab-thon-1', unitId: 'thon-1' },
  ]
  const inHoaPhu: Cluster[] = [{ id: 'c-hp-1', unitId: 'xa-hoa-phu' }]
  for (const c of [...inAnBinh, ...inHoaPhu]) {
    await cp.api('POST', '/api/clusters', {
      id: c.id,
      name: `Cụm loa ${c.id}`,
      unitId: c.unitId,
      lat: 16,
      lon: 108,
    })
  }
  return { inAnBinh, inHoaPhu }
}

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ControlPlane, newApiTokenString } from '@loa/control-plane'
import { makeTone } from '@loa/testkit'
import { fmt } from './util.js'

/** The benches call the API as a province administrator (LOA_BOOTSTRAP_TOKEN of the plane they start). */
export const BENCH_TOKEN = newApiTokenString('bench')
export const benchAuth = { authorization: `Bearer ${BENCH_TOKEN}` }

export async function inject(
  cp: ControlPlane,
  method: 'POST',
  url: string,
  payload: unknown,
): Promise<{ id?: string }> {
  const res = await cp.app.inject({
    method,
    url,
    payload: payload as Record<string, unknown>,
    headers: benchAuth,
  })
  if (res.statusCode >= 300) throw new Error(`${url} → ${res.statusCode}: ${res.body}`)
  return res.json() as { id?: string }
}

/** A province `tinh` with communes `xa-<k>` of 100 clusters each: `c-0` … `c-<clusters-1>`. */
export async function seedProvince(cp: ControlPlane, clusters: number): Promise<void> {
  const communes = Math.ceil(clusters / 100)
  const t0 = performance.now()
  await inject(cp, 'POST', '/api/units', { id: 'tinh', name: 'Tỉnh', kind: 'province', parentId: null })
  for (let c = 0; c < communes; c++) {
    await inject(cp, 'POST', '/api/units', {
      id: `xa-${c}`,
      name: `Xã ${c}`,
      kind: 'commune',
      parentId: 'tinh',
    })
  }
  for (let i = 0; i < clusters; i++) {
    await inject(cp, 'POST', '/api/clusters', {
      id: `c-${i}`,
      name: `Cụm ${i}`,
      unitId: `xa-${Math.floor(i / 100)}`,
    })
  }
  console.log(`seeded ${clusters} clusters in ${communes} communes in ${fmt(performance.now() - t0)}`)
}

/** One second of tone through the real media pipeline, as an emergency bulletin. */
export async function seedBulletin(cp: ControlPlane): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-bench-tone-'))
  const wav = readFileSync(makeTone(join(dir, 'tone.wav'), 1))
  rmSync(dir, { recursive: true, force: true })
  const form = new FormData()
  form.append('file', new Blob([wav]), 'tone.wav')
  const up = await fetch(`${cp.httpUrl}/api/media`, { method: 'POST', body: form, headers: benchAuth })
  if (!up.ok) throw new Error(`upload → ${up.status} ${await up.text()}`)
  const media = (await up.json()) as { sha256: string }
  const b = await inject(cp, 'POST', '/api/bulletins', {
    title: 'Bench',
    level: 'emergency',
    mediaSha256: media.sha256,
  })
  if (!b.id) throw new Error('no bulletin id')
  return b.id
}

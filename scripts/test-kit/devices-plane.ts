import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'vitest'
import { startTestPlane, type TestPlane } from '../../control-plane/test-kit/test-helpers.js'
import { cliEnv, runCli, writeFile } from './cli.js'

/** The units `loa devices` provisions into: a province and two communes, by their official codes. */
export const UNITS = `code,parent_code,name,type
45,,Tỉnh Quảng Trị,province
19345,45,Xã Gio Linh,commune
19346,45,Xã Cửa Việt,commune
`

export interface DevicesPlane {
  t: TestPlane
  /** A fresh directory for the test's files, removed by close(). */
  dir: string
  /** Where the devices' files are written (`--out`). */
  out: string
  /** The CLI's environment: a private HOME and the admin token. */
  env: Record<string, string>
  close(): Promise<void>
}

/** A real control plane with UNITS imported by `loa units import`, for the `loa devices` tests. */
export async function startDevicesPlane(): Promise<DevicesPlane> {
  const t = await startTestPlane()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loa-cli-devices-'))
  const out = path.join(dir, 'out')
  const env = cliEnv({ LOA_TOKEN: t.adminToken }).env
  const r = await runCli(['--api', t.cp.httpUrl, 'units', 'import', writeFile(dir, 'units.csv', UNITS)], {
    env,
  })
  expect(r.code).toBe(0)
  return {
    t,
    dir,
    out,
    env,
    async close() {
      await t.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

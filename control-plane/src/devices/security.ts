import path from 'node:path'
import { DEFAULT_TOPIC_ROOT, type TopicTree, topicTree } from '@loa/shared'
import { type BrokerIdentity, controlPlaneIdentity, MONITOR_USERNAME } from '../mqtt/broker-identity.js'
import { type MosquittoFiles, mosquittoFiles, unitsAbove } from '../mqtt/mosquitto-files.js'
import type { Repositories } from '../repositories.js'
import { openSqliteRepositories } from '../sqlite.js'
import { DeviceCredentials } from './credentials.js'
import { SigningKeys } from './signing-keys.js'

export function deviceCredentialsFor(repos: Repositories): DeviceCredentials {
  return new DeviceCredentials({
    repo: repos.credentials,
    clusterExists: async (id) => (await repos.clusters.exists([id])).has(id),
  })
}

/** Unit ids from the root down to a cluster's unit: the unit command topics the device may read. */
export async function unitsOfCluster(repos: Repositories, clusterId: string): Promise<string[] | null> {
  const [cluster] = await repos.clusters.listInputs([clusterId])
  if (!cluster) return null
  const byId = new Map<string, { id: string; parentId: string | null }>()
  for (let id: string | null = cluster.unitId; id && !byId.has(id) && byId.size < 64; ) {
    const u = await repos.units.get(id)
    if (!u) break
    byId.set(u.id, u)
    id = u.parentId
  }
  return unitsAbove(byId, cluster.unitId)
}

export async function mosquittoFilesFor(o: {
  repos: Repositories
  topics: TopicTree
  controlPlane: BrokerIdentity | null
  monitor: BrokerIdentity | null
}): Promise<MosquittoFiles> {
  const [credentials, clusters, units] = await Promise.all([
    o.repos.credentials.list(),
    o.repos.clusters.listInputs(),
    o.repos.units.list(),
  ])
  return mosquittoFiles({ ...o, credentials, clusters, units })
}

export interface DeviceSecurity {
  credentials: DeviceCredentials
  signingKeys: SigningKeys
  /** Password and ACL files for Mosquitto, from the database. */
  mosquittoFiles(): Promise<MosquittoFiles>
  close(): Promise<void>
}

/**
 * Library entry point for the `loa` command line working on a control plane's data directory directly (when the
 * control plane is not running; while it runs, use the HTTP API so that connected devices are disconnected).
 */
export function openDeviceSecurity(
  dataDir: string,
  opts: {
    topicRoot?: string
    mqttUsername?: string | null
    mqttPassword?: string | null
    mqttMonitorPassword?: string | null
  } = {},
): DeviceSecurity {
  const repos = openSqliteRepositories(path.join(path.resolve(dataDir), 'loa.db'))
  const topics = topicTree(opts.topicRoot ?? DEFAULT_TOPIC_ROOT)
  const controlPlane = controlPlaneIdentity({
    dataDir,
    username: opts.mqttUsername ?? null,
    password: opts.mqttPassword ?? null,
  })
  const monitor = opts.mqttMonitorPassword
    ? { username: MONITOR_USERNAME, password: opts.mqttMonitorPassword }
    : null
  return {
    credentials: deviceCredentialsFor(repos),
    signingKeys: SigningKeys.open(dataDir),
    mosquittoFiles: () => mosquittoFilesFor({ repos, topics, controlPlane, monitor }),
    close: () => repos.close(),
  }
}

import path from 'node:path'
import { hashPassword } from '@loa/shared/password-hash'
import { createApiToken } from './access/api-tokens.js'
import type { User } from './access/model.js'
import { MIN_PASSWORD_LENGTH } from './access/settings.js'
import type { Unit } from './org/model.js'
import type { Repositories } from './repositories.js'
import { LoaError } from './server/errors.js'
import { openSqliteRepositories } from './sqlite.js'

export interface FirstAdminInput {
  /** The province: created when missing, becomes the admin's scope. */
  province: { id: string; name: string; code?: string | null }
  username: string
  displayName?: string
  password: string
  /** Also create a province-admin API token with this name (its secret is returned once). */
  tokenName?: string
}

export interface FirstAdminResult {
  unit: Unit
  unitCreated: boolean
  user: User
  /** `loa_<id>_<secret>` when a token was asked for. */
  token?: string
}

/**
 * First-time setup (`loa init`): the province root unit and its first administrator. Refused once any enabled
 * province administrator exists, so it cannot be used to take over a running installation.
 */
export async function createFirstAdmin(
  repos: Repositories,
  input: FirstAdminInput,
): Promise<FirstAdminResult> {
  if ((await repos.users.countActiveAdmins()) > 0) {
    throw new LoaError('LOA_CONFLICT', 'a province administrator already exists')
  }
  if (input.password.length < MIN_PASSWORD_LENGTH) {
    throw new LoaError('LOA_VALIDATION', `password: at least ${MIN_PASSWORD_LENGTH} characters`)
  }
  let unit = await repos.units.get(input.province.id)
  const unitCreated = unit === null
  if (unit === null) {
    unit = await repos.units.create({
      id: input.province.id,
      name: input.province.name,
      kind: 'province',
      parentId: null,
      code: input.province.code ?? null,
    })
  } else if (unit.parentId !== null) {
    throw new LoaError('LOA_VALIDATION', `province.id: unit "${unit.id}" is not a root unit`)
  }
  if (await repos.users.getByUsername(input.username)) {
    throw new LoaError('LOA_CONFLICT', `username: "${input.username}" already exists`)
  }
  const user = await repos.users.create({
    id: `u-${input.username.toLowerCase()}`,
    username: input.username,
    displayName: input.displayName ?? input.username,
    role: 'province-admin',
    scopeUnitId: unit.id,
    passwordHash: await hashPassword(input.password),
  })
  const result: FirstAdminResult = { unit, unitCreated, user }
  if (input.tokenName) {
    const { secret } = await createApiToken(repos, {
      name: input.tokenName,
      role: 'province-admin',
      scopeUnitId: unit.id,
      createdBy: user.id,
    })
    result.token = secret
  }
  await repos.audit.insert({
    at: new Date().toISOString(),
    actorKind: 'system',
    actorId: 'system',
    actorName: 'init',
    action: 'user.create',
    targetType: 'user',
    targetId: user.id,
    unitId: unit.id,
    outcome: 201,
    ip: null,
    details: { username: user.username, role: user.role, firstAdmin: true, tokenCreated: !!input.tokenName },
  })
  return result
}

/** createFirstAdmin on a control plane's data directory (the control plane need not run; SQLite allows both). */
export async function initDataDir(dataDir: string, input: FirstAdminInput): Promise<FirstAdminResult> {
  const repos = openSqliteRepositories(path.join(path.resolve(dataDir), 'loa.db'))
  try {
    return await createFirstAdmin(repos, input)
  } finally {
    await repos.close()
  }
}

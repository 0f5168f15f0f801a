import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { LoaError } from '../server/errors.js'
import { translateSqliteError, translatingSqliteErrors } from './sqlite-errors.js'

/** Constraint failures leave storage as stable codes (the HTTP answers api.test.ts checks: 409 LOA_CONFLICT). */
describe('SQLite errors translated in storage', () => {
  const db = new Database(':memory:')
  db.pragma('foreign_keys = ON')
  db.exec(
    'CREATE TABLE p (id TEXT PRIMARY KEY); CREATE TABLE c (id TEXT PRIMARY KEY, p TEXT REFERENCES p(id))',
  )
  const repo = translatingSqliteErrors({
    prefix: 'x',
    async addParent(id: string) {
      db.prepare('INSERT INTO p (id) VALUES (?)').run(id)
    },
    addChild(id: string, parent: string) {
      db.prepare('INSERT INTO c (id, p) VALUES (?, ?)').run(id, parent)
    },
    async named(id: string) {
      return `${this.prefix}-${id}`
    },
  })

  it('a duplicate id is LOA_CONFLICT (409), a rejected promise', async () => {
    await repo.addParent('a')
    const err = await repo.addParent('a').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LoaError)
    expect(err).toMatchObject({ code: 'LOA_CONFLICT', statusCode: 409, message: 'id: already exists' })
    expect((err as LoaError).cause).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
  })

  it('a missing reference is LOA_CONFLICT, thrown by a synchronous method', () => {
    expect(() => repo.addChild('c1', 'nope')).toThrow(
      expect.objectContaining({
        code: 'LOA_CONFLICT',
        message: 'a referenced record does not exist or is still in use',
      }),
    )
  })

  it('other errors and values pass unchanged; methods keep their this', async () => {
    const plain = new Error('boom')
    expect(translateSqliteError(plain)).toBe(plain)
    expect(translateSqliteError(null)).toBeNull()
    expect(await repo.named('y')).toBe('x-y')
    expect(repo.prefix).toBe('x')
  })
})

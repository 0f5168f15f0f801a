import { LoaError } from '../server/errors.js'

/**
 * SQLite constraint failures that are the client's fault (a duplicate id, a missing or still-used reference) as
 * stable codes, so nothing above storage needs to know SQLite's error codes. Other errors pass unchanged.
 */
export function translateSqliteError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new LoaError('LOA_CONFLICT', 'id: already exists', { cause: err })
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new LoaError('LOA_CONFLICT', 'a referenced record does not exist or is still in use', {
      cause: err,
    })
  }
  return err
}

/**
 * The repository with every method's failures (thrown or rejected) passed through translateSqliteError. A proxy,
 * so methods keep their `this` and the repository's type is unchanged.
 */
export function translatingSqliteErrors<T extends object>(repo: T): T {
  const wrapped = new Map<PropertyKey, unknown>()
  return new Proxy(repo, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      let w = wrapped.get(prop)
      if (w === undefined) {
        w = (...args: unknown[]) => {
          let result: unknown
          try {
            result = value.apply(target, args)
          } catch (err) {
            throw translateSqliteError(err)
          }
          if (result instanceof Promise) {
            return result.catch((err: unknown) => {
              throw translateSqliteError(err)
            })
          }
          return result
        }
        wrapped.set(prop, w)
      }
      return w
    },
  })
}

import { Type } from '@fastify/type-provider-typebox'
import { requireWholeTree } from '../access/request-policy.js'
import type { App, Services } from '../context.js'
import { errorBody } from '../server/errors.js'
import { loaPlugin } from '../server/plugin.js'

/** Up to a province's worth of units with their villages; the route raises the default JSON limit for it. */
const MAX_ROWS = 50_000
const IMPORT_BODY_LIMIT = 16 * 1024 * 1024

const Row = Type.Object(
  {
    line: Type.Integer({ minimum: 1 }),
    code: Type.String({ maxLength: 200 }),
    parentCode: Type.String({ maxLength: 200 }),
    name: Type.String({ maxLength: 1000 }),
    kind: Type.String({ maxLength: 100 }),
  },
  { additionalProperties: false },
)
const ImportBody = Type.Object(
  {
    rows: Type.Array(Row, { minItems: 1, maxItems: MAX_ROWS }),
    dryRun: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

/** What unit import routes use of the services (app.ts passes exactly these). */
export type UnitImportRoutesDeps = Pick<Services, 'desired' | 'repos'>

/**
 * `POST /api/units/import`: the administrative tree from a list of rows (what `loa units import` sends from a
 * CSV). Validated as a whole and applied in one transaction; a bad row means nothing changes and every problem
 * comes back with its line. Re-importing the same rows changes nothing; a changed name or parent is updated.
 */
export function registerUnitImportRoutes(app: App, s: UnitImportRoutesDeps): void {
  app.post(
    '/api/units/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: { tags: ['units'], body: ImportBody },
      config: { permission: 'admin-devices', audit: 'unit.import' },
    },
    async (req, reply) => {
      await requireWholeTree(s, req)
      const dryRun = req.body.dryRun ?? false
      const result = await s.repos.unitImport.importUnits(req.body.rows, dryRun)
      if ('problems' in result) {
        const n = result.problems.length
        return reply.status(400).send({
          ...errorBody(
            400,
            'LOA_UNIT_IMPORT_INVALID',
            `${n} problem${n === 1 ? '' : 's'} in the rows; nothing imported`,
          ),
          problems: result.problems,
        })
      }
      const { create, update, unchanged } = result.plan
      if (!dryRun && (create.length > 0 || update.length > 0)) {
        req.log.info({ created: create.length, updated: update.length }, 'units imported')
        // A moved unit changes which unit topics and fallbacks its devices get.
        if (update.some((u) => u.changes.parentId)) await s.desired.changed()
      }
      return { dryRun, created: create, updated: update, unchanged }
    },
  )
}

/** registerUnitImportRoutes as a Fastify plugin (server/plugin.ts). */
export const unitImportRoutes = loaPlugin('loa-unit-import-routes', registerUnitImportRoutes)

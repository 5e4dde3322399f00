// The RMS application's own Prisma client (Prisma 7, driver adapters), driven by
// tests/prisma/harness.py.
//
// Protocol: one JSON request on stdin, one JSON response on stdout, nothing else on stdout
// (Prisma's own chatter goes to stderr). The request names a command:
//
//   {"command": "write", "url": ..., "timestampFormat": "iso8601"|"unixepoch-ms"|null,
//    "portfolio": {model: [row, ...]}}
//   {"command": "read", "url": ..., "timestampFormat": ...}
//   {"command": "operations", "url": ...}
//
// The response is {"ok": true, "result": ...} or {"ok": false, "error": {"message", "code"}}.
// The URL is `file:<path>` (SQLite, through @prisma/adapter-better-sqlite3) or
// `postgresql://...` (through @prisma/adapter-pg); it travels on stdin, never on a command
// line, because it may hold a password.
//
// Values travel losslessly: DateTime as ISO-8601 UTC with milliseconds
// (`2025-09-19T21:13:53.622Z`), Float as a JSON number (shortest round-trip form, exact)
// except -0, NaN and the infinities, which JSON cannot hold and travel as the strings "-0",
// "NaN", "Infinity", "-Infinity"; Int, Boolean, String, enum values and null as themselves.

import { createRequire } from 'node:module'
import { randomUUID } from 'node:crypto'

const require = createRequire(import.meta.url)

// stdout carries the one JSON answer; anything a library logs goes to stderr.
console.log = console.error
console.info = console.error

// Parents before children, so that rows can be written in this order and foreign keys hold.
const MODELS = [
  'risk_group',
  'accounts',
  'divDepositType',
  'universe',
  'trades',
  'divDeposits',
  'holidays',
  'screener',
  'cusip_cache',
  'cusip_cache_archive',
  'cusip_cache_audit',
]

class HarnessError extends Error {}

// Thrown at the end of each application operation so that its transaction rolls back.
class Rollback extends Error {}

function openClient(url, timestampFormat) {
  if (url.startsWith('file:')) {
    const { PrismaClient, Prisma } = require('./generated/sqlite')
    const { PrismaBetterSqlite3 } = require('@prisma/adapter-better-sqlite3')
    const options = timestampFormat ? { timestampFormat } : undefined
    const adapter = new PrismaBetterSqlite3({ url }, options)
    return { fields: scalarFields(Prisma), client: new PrismaClient({ adapter }) }
  }
  if (url.startsWith('postgresql://') || url.startsWith('postgres://')) {
    if (timestampFormat) throw new HarnessError('timestampFormat applies to SQLite only')
    const { PrismaClient, Prisma } = require('./generated/postgresql')
    const { PrismaPg } = require('@prisma/adapter-pg')
    const adapter = new PrismaPg({ connectionString: url })
    return { fields: scalarFields(Prisma), client: new PrismaClient({ adapter }) }
  }
  throw new HarnessError('the URL must start with file: (SQLite) or postgresql:// (PostgreSQL)')
}

// {model: {field: {type, kind, required}}} for the scalar and enum fields of every model,
// from the generated client's own data model.
function scalarFields(Prisma) {
  const out = {}
  for (const model of Prisma.dmmf.datamodel.models) {
    out[model.name] = {}
    for (const f of model.fields) {
      if (f.kind === 'scalar' || f.kind === 'enum') {
        out[model.name][f.name] = { type: f.type, kind: f.kind, required: f.isRequired }
      }
    }
  }
  return out
}

function encodeFloat(x) {
  if (Number.isFinite(x) && !Object.is(x, -0)) return x
  if (Object.is(x, -0)) return '-0'
  return String(x) // NaN, Infinity, -Infinity
}

function decodeFloat(v, where) {
  if (typeof v === 'number') return v
  if (v === '-0') return -0
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v)
  throw new HarnessError(`${where}: not a float: ${JSON.stringify(v)}`)
}

function encodeRow(model, row, fields) {
  const out = {}
  for (const [name, meta] of Object.entries(fields[model])) {
    const v = row[name]
    if (v === null || v === undefined) {
      out[name] = null
    } else if (meta.type === 'DateTime') {
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) {
        throw new HarnessError(`${model} id=${row.id} ${name}: the client returned an invalid date (${String(v)})`)
      }
      out[name] = v.toISOString()
    } else if (meta.type === 'Float') {
      out[name] = encodeFloat(v)
    } else if (typeof v === 'bigint') {
      out[name] = Number(v)
    } else {
      out[name] = v
    }
  }
  return out
}

function decodeRow(model, row, fields) {
  const known = fields[model]
  if (!known) throw new HarnessError(`unknown model ${model}`)
  const data = {}
  for (const [name, v] of Object.entries(row)) {
    const meta = known[name]
    const where = `${model} id=${row.id} ${name}`
    if (!meta) throw new HarnessError(`${where}: no such field in the application's schema`)
    if (v === null) {
      data[name] = null
    } else if (meta.type === 'DateTime') {
      const d = new Date(v)
      if (Number.isNaN(d.getTime())) throw new HarnessError(`${where}: not an ISO-8601 instant: ${JSON.stringify(v)}`)
      data[name] = d
    } else if (meta.type === 'Float') {
      data[name] = decodeFloat(v, where)
    } else {
      data[name] = v
    }
  }
  return data
}

async function write({ client, fields }, portfolio) {
  const unknown = Object.keys(portfolio).filter((m) => !MODELS.includes(m))
  if (unknown.length) throw new HarnessError(`unknown models: ${unknown.join(', ')}`)
  const counts = {}
  await client.$transaction(
    async (tx) => {
      for (const model of MODELS) {
        counts[model] = 0
        for (const row of portfolio[model] ?? []) {
          await tx[model].create({ data: decodeRow(model, row, fields) })
          counts[model] += 1
        }
      }
    },
    { timeout: 120000, maxWait: 30000 },
  )
  return { counts }
}

async function read({ client, fields }) {
  const models = {}
  const failures = []
  for (const model of MODELS) {
    try {
      const rows = await client[model].findMany({ orderBy: { id: 'asc' } })
      models[model] = rows.map((r) => encodeRow(model, r, fields)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    } catch (e) {
      failures.push(`${model}: ${errorOf(e).message}`)
    }
  }
  // Every model is tried, so that one answer names every gap.
  if (failures.length) throw new HarnessError(`reading ${failures.length} model(s) failed:\n${failures.join('\n')}`)
  return { fields, models }
}

function errorOf(e) {
  return { message: String(e?.message ?? e).trim(), code: e?.code ?? null }
}

// Runs fn(tx) in an interactive transaction that always rolls back; each operation gets its
// own, so that one failure (which aborts a PostgreSQL transaction) does not hide the others.
async function rolledBack(client, name, fn) {
  let detail = null
  try {
    await client.$transaction(
      async (tx) => {
        detail = await fn(tx)
        throw new Rollback()
      },
      { timeout: 60000, maxWait: 30000 },
    )
  } catch (e) {
    if (e instanceof Rollback) return { name, ok: true, error: null, detail }
    return { name, ok: false, error: errorOf(e).message, detail }
  }
  return { name, ok: false, error: 'the transaction committed although it should have rolled back', detail }
}

function check(condition, message) {
  if (!condition) throw new HarnessError(message)
}

// Row counts per model; a model that cannot be counted (a missing table) counts as its error.
async function countAll(client) {
  const counts = {}
  for (const model of MODELS) {
    try {
      counts[model] = await client[model].count()
    } catch (e) {
      counts[model] = `error: ${errorOf(e).message.split('\n').pop()}`
    }
  }
  return counts
}

// The application's usual writes, each rolled back.
async function operations({ client }) {
  const before = await countAll(client)
  const results = []

  results.push(
    await rolledBack(client, 'create a trade', async (tx) => {
      const account = await tx.accounts.findFirst({ where: { deletedAt: null }, orderBy: { name: 'asc' } })
      const symbol = await tx.universe.findFirst({ where: { expired: false }, orderBy: { symbol: 'asc' } })
      check(account && symbol, 'no account or no unexpired universe row to trade')
      const trade = await tx.trades.create({
        data: {
          universeId: symbol.id,
          accountId: account.id,
          buy: 19.87,
          sell: 0,
          buy_date: new Date(),
          quantity: 150,
        },
      })
      const back = await tx.trades.findUnique({ where: { id: trade.id }, include: { universe: true, account: true } })
      check(back && back.universe.symbol === symbol.symbol, 'the new trade does not read back with its symbol')
      return { id: trade.id, symbol: symbol.symbol }
    }),
  )

  results.push(
    await rolledBack(client, 'update a universe row', async (tx) => {
      const row = await tx.universe.findFirst({ orderBy: { symbol: 'asc' } })
      check(row, 'no universe row to update')
      const now = new Date()
      const updated = await tx.universe.update({
        where: { id: row.id },
        data: {
          last_price: 21.37,
          distribution: 0.1234,
          ex_date: now,
          most_recent_sell_date: now,
          most_recent_sell_price: 22.01,
          volatility_long: '0.1873',
          volatility_short: '0.0912',
          volatility_calculated_at: now,
          version: { increment: 1 },
        },
      })
      check(updated.version === row.version + 1, 'the version did not increase')
      check(updated.updatedAt.getTime() >= row.updatedAt.getTime(), 'updatedAt went backwards')
      return { symbol: row.symbol }
    }),
  )

  results.push(
    await rolledBack(client, 'delete a symbol that has deposits', async (tx) => {
      const row = await tx.universe.findFirst({
        where: { divDeposits: { some: {} }, trades: { none: {} } },
        orderBy: { symbol: 'asc' },
        include: { divDeposits: true },
      })
      check(row, 'no universe row has deposits and no trades')
      const ids = row.divDeposits.map((d) => d.id)
      await tx.universe.delete({ where: { id: row.id } })
      const after = await tx.divDeposits.findMany({ where: { id: { in: ids } } })
      check(after.length === ids.length, `deposits of ${row.symbol} disappeared with it`)
      const kept = after.filter((d) => d.universeId !== null)
      check(kept.length === 0, `divDeposits.universeId was not set to NULL for ${kept.map((d) => d.id).join(', ')}`)
      return { symbol: row.symbol, deposits: ids.length }
    }),
  )

  results.push(
    await rolledBack(client, 'create cusip_cache rows', async (tx) => {
      const made = []
      for (const source of ['THIRTEENF', 'YAHOO_FINANCE']) {
        const row = await tx.cusip_cache.create({
          data: { cusip: `T${randomUUID().slice(0, 8).toUpperCase()}`, symbol: 'TEST', source },
        })
        const back = await tx.cusip_cache.findUnique({ where: { cusip: row.cusip } })
        check(back && back.source === source, `source ${source} does not read back`)
        made.push(row.cusip)
      }
      return { cusips: made }
    }),
  )

  results.push(
    await rolledBack(client, 'read the portfolio with its relations', async (tx) => {
      const universe = await tx.universe.findMany({ include: { risk_group: true, trades: true, divDeposits: true } })
      const accounts = await tx.accounts.findMany({ include: { trades: { include: { universe: true } }, divDeposits: true } })
      const deposits = await tx.divDeposits.findMany({ include: { divDepositType: true, universe: true, account: true } })
      const screener = await tx.screener.findMany({ include: { risk_group: true } })
      return { universe: universe.length, accounts: accounts.length, deposits: deposits.length, screener: screener.length }
    }),
  )

  const after = await countAll(client)
  const changed = MODELS.filter((m) => before[m] !== after[m])
  results.push({
    name: 'everything rolled back',
    ok: changed.length === 0,
    error: changed.length ? `row counts changed in ${changed.join(', ')}` : null,
    detail: { before, after },
  })
  return results
}

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

async function main() {
  let opened = null
  let response
  try {
    const request = await readStdin()
    opened = openClient(request.url ?? '', request.timestampFormat ?? null)
    let result
    if (request.command === 'write') result = await write(opened, request.portfolio ?? {})
    else if (request.command === 'read') result = await read(opened)
    else if (request.command === 'operations') result = await operations(opened)
    else throw new HarnessError(`unknown command ${JSON.stringify(request.command)}`)
    response = { ok: true, result }
  } catch (e) {
    response = { ok: false, error: errorOf(e) }
  } finally {
    if (opened) await opened.client.$disconnect().catch(() => {})
  }
  process.stdout.write(JSON.stringify(response))
}

await main()

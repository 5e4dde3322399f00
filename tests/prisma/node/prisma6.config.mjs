// Prisma 6.19's CLI configuration for its JavaScript ("js") schema engine: the wasm engine with
// the pg driver adapter, the only way to run Prisma's schema engine offline (Prisma 7's needs a
// native binary). tests/prisma/harness.py sets both variables; the URL is never on a command line.
import { defineConfig } from 'prisma6/config'
import { PrismaPg } from 'prisma6-adapter-pg'

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: process.env.RMS_PRISMA6_SCHEMA,
  // A short idle timeout lets the CLI exit as soon as it is done instead of holding the pool open.
  adapter: async () => new PrismaPg({ connectionString: process.env.RMS_PRISMA6_URL, idleTimeoutMillis: 50 }),
})

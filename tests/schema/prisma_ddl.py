"""The DDL Prisma creates for the application's latest schema on PostgreSQL.

Written by hand, apart from our models, from ``SCHEMA-HISTORY.md`` ("the latest schema")
and the application's SQLite DDL (``tests/fixtures/prisma-history/22_...db``), with
Prisma's PostgreSQL mapping: String TEXT, Int INTEGER, Float DOUBLE PRECISION, Boolean
BOOLEAN, DateTime TIMESTAMP(3), the enum a type of its own, ``@default(now())``
DEFAULT CURRENT_TIMESTAMP, ``@unique`` a unique index ``<table>_<cols>_key``, relations
``<table>_<col>_fkey`` with Prisma's default rules, in the layout ``prisma migrate`` writes.
"""

from __future__ import annotations

STD = """
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "deletedAt" TIMESTAMP(3),"""
VERSION = """
    "version" INTEGER NOT NULL DEFAULT 1,"""

PRISMA_POSTGRESQL_DDL = f"""
-- CreateEnum
CREATE TYPE "CusipCacheSource" AS ENUM ('THIRTEENF', 'YAHOO_FINANCE');

-- CreateTable
CREATE TABLE "accounts" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,{STD}{VERSION}

    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "risk_group" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,{STD}{VERSION}

    CONSTRAINT "risk_group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "universe" (
    "id" TEXT NOT NULL,
    "distribution" DOUBLE PRECISION NOT NULL,
    "distributions_per_year" INTEGER NOT NULL,
    "last_price" DOUBLE PRECISION NOT NULL,
    "most_recent_sell_date" TIMESTAMP(3),
    "most_recent_sell_price" DOUBLE PRECISION,
    "symbol" TEXT NOT NULL,
    "ex_date" TIMESTAMP(3),
    "risk_group_id" TEXT NOT NULL,
    "expired" BOOLEAN NOT NULL DEFAULT false,
    "is_closed_end_fund" BOOLEAN NOT NULL DEFAULT true,{STD}{VERSION}
    "volatility_long" TEXT,
    "volatility_short" TEXT,
    "volatility_calculated_at" TIMESTAMP(3),

    CONSTRAINT "universe_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trades" (
    "id" TEXT NOT NULL,
    "universeId" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "buy" DOUBLE PRECISION NOT NULL,
    "sell" DOUBLE PRECISION NOT NULL,
    "buy_date" TIMESTAMP(3) NOT NULL,
    "quantity" INTEGER NOT NULL,
    "sell_date" TIMESTAMP(3),{STD}

    CONSTRAINT "trades_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "holidays" (
    "id" TEXT NOT NULL,
    "date" TIMESTAMP(3) NOT NULL,
    "name" TEXT NOT NULL,{STD}{VERSION}

    CONSTRAINT "holidays_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "divDepositType" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,{STD}

    CONSTRAINT "divDepositType_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "divDeposits" (
    "id" TEXT NOT NULL,
    "date" TIMESTAMP(3) NOT NULL,
    "amount" DOUBLE PRECISION NOT NULL,
    "accountId" TEXT NOT NULL,
    "divDepositTypeId" TEXT NOT NULL,
    "universeId" TEXT,{STD}{VERSION}

    CONSTRAINT "divDeposits_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "screener" (
    "id" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "distribution" DOUBLE PRECISION NOT NULL,
    "distributions_per_year" INTEGER NOT NULL,
    "last_price" DOUBLE PRECISION NOT NULL,
    "ex_date" TIMESTAMP(3),
    "risk_group_id" TEXT NOT NULL,{STD}{VERSION}

    CONSTRAINT "screener_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cusip_cache" (
    "id" TEXT NOT NULL,
    "cusip" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "source" "CusipCacheSource" NOT NULL,
    "resolvedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "cusip_cache_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cusip_cache_archive" (
    "id" TEXT NOT NULL,
    "cusip" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "resolvedAt" TIMESTAMP(3) NOT NULL,
    "archivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "reason" TEXT,

    CONSTRAINT "cusip_cache_archive_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cusip_cache_audit" (
    "id" TEXT NOT NULL,
    "cusip" TEXT NOT NULL,
    "symbol" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "userId" TEXT,
    "reason" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cusip_cache_audit_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "accounts_name_key" ON "accounts"("name");
CREATE INDEX "accounts_name_idx" ON "accounts"("name");
CREATE INDEX "accounts_createdAt_idx" ON "accounts"("createdAt");
CREATE INDEX "accounts_deletedAt_idx" ON "accounts"("deletedAt");
CREATE UNIQUE INDEX "risk_group_name_key" ON "risk_group"("name");
CREATE UNIQUE INDEX "universe_symbol_key" ON "universe"("symbol");
CREATE INDEX "universe_expired_idx" ON "universe"("expired");
CREATE INDEX "universe_risk_group_id_idx" ON "universe"("risk_group_id");
CREATE INDEX "trades_accountId_idx" ON "trades"("accountId");
CREATE INDEX "trades_buy_date_idx" ON "trades"("buy_date");
CREATE INDEX "trades_sell_date_idx" ON "trades"("sell_date");
CREATE INDEX "trades_accountId_buy_date_idx" ON "trades"("accountId", "buy_date");
CREATE INDEX "trades_accountId_sell_date_idx" ON "trades"("accountId", "sell_date");
CREATE UNIQUE INDEX "holidays_date_key" ON "holidays"("date");
CREATE INDEX "divDeposits_accountId_idx" ON "divDeposits"("accountId");
CREATE INDEX "divDeposits_date_idx" ON "divDeposits"("date");
CREATE INDEX "divDeposits_accountId_date_idx" ON "divDeposits"("accountId", "date");
CREATE UNIQUE INDEX "screener_symbol_key" ON "screener"("symbol");
CREATE INDEX "screener_risk_group_id_idx" ON "screener"("risk_group_id");
CREATE UNIQUE INDEX "cusip_cache_cusip_key" ON "cusip_cache"("cusip");
CREATE INDEX "cusip_cache_cusip_idx" ON "cusip_cache"("cusip");
CREATE INDEX "cusip_cache_resolvedAt_idx" ON "cusip_cache"("resolvedAt");
CREATE INDEX "cusip_cache_lastUsedAt_idx" ON "cusip_cache"("lastUsedAt");
CREATE INDEX "cusip_cache_archive_archivedAt_idx" ON "cusip_cache_archive"("archivedAt");
CREATE INDEX "cusip_cache_audit_createdAt_idx" ON "cusip_cache_audit"("createdAt");
CREATE INDEX "cusip_cache_audit_cusip_idx" ON "cusip_cache_audit"("cusip");

-- AddForeignKey
ALTER TABLE "universe" ADD CONSTRAINT "universe_risk_group_id_fkey" FOREIGN KEY ("risk_group_id") REFERENCES "risk_group"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "trades" ADD CONSTRAINT "trades_universeId_fkey" FOREIGN KEY ("universeId") REFERENCES "universe"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "trades" ADD CONSTRAINT "trades_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "divDeposits" ADD CONSTRAINT "divDeposits_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "divDeposits" ADD CONSTRAINT "divDeposits_divDepositTypeId_fkey" FOREIGN KEY ("divDepositTypeId") REFERENCES "divDepositType"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "divDeposits" ADD CONSTRAINT "divDeposits_universeId_fkey" FOREIGN KEY ("universeId") REFERENCES "universe"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "screener" ADD CONSTRAINT "screener_risk_group_id_fkey" FOREIGN KEY ("risk_group_id") REFERENCES "risk_group"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
"""  # noqa: E501

#: What we add to the application's schema (and nothing else may differ).
OUR_TABLES = {"settings", "rms_archive", "rms_session", "alembic_version"}
OUR_COLUMNS = {("trades", "version"), ("divDepositType", "version")}

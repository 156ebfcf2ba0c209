// A throwaway database on a MariaDB/MySQL server for one bench run: created with a random name, dropped at the
// end. Shared by bench/run.js and bench/series.js.
"use strict";

const { randomBytes } = require("node:crypto");
const { createConnection } = require("mysql2/promise");

/**
 * Creates `<prefix>_<random>` on the server of `serverUrl` (mysql:// or mariadb://): its url, the server's
 * label (version, commit flushing, buffer pool) and drop().
 */
async function createBenchDatabase(serverUrl, prefix = "bench") {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const uri = serverUrl.replace(/^mariadb:/, "mysql:");
  let admin;
  try {
    admin = await createConnection({ uri, connectTimeout: 5_000 });
  } catch (error) {
    throw new Error(`${serverUrl} is not reachable: ${error.message}`);
  }
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const [[server]] = await admin.query(
    "SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush, @@innodb_buffer_pool_size AS pool",
  );
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    label: `MariaDB/MySQL ${server.version}, innodb_flush_log_at_trx_commit=${server.flush}, buffer pool ${Math.round(server.pool / 1048576).toLocaleString("en-US")} MB`,
    drop: async () => {
      const connection = await createConnection({ uri });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}

module.exports = { createBenchDatabase };

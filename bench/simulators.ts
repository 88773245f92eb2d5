// Starts a simulated Entra tenant (Graph and its token endpoint, over HTTPS) and a DocuWare-style SCIM target
// (OAuth2 client credentials, as DocuWare's User Provisioning service) in this process, and writes a config for
// `entra-sync run` into a directory, with the secrets in files as a container mounts them. .ci/run uses it to
// start the daemon from the pruned production tree, as the image would; it is also a quick way to try `run`
// by hand. It lives in bench/ because neither the image nor the npm package ships bench/.
//   node dist/bench/simulators.js --dir /tmp/es [--users 200] [--http-port 9400] [--state file]
// Without --state the config has no state.path, so the state files land in the daemon's working directory
// (./entra-sync.db), as in the image, whose working directory is /data.
// Prints one JSON line once both are listening ({ config, healthz, readyz, metrics, admin, adminTokenFile, scim }),
// then serves until SIGTERM, SIGINT or its stdin closes, and prints what the target holds then
// ({ target: { users, groups } }).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startGraphSimulator } from '../src/simulators/graph/index.js';
import { startScimSimulator } from '../src/simulators/scim/index.js';

const USAGE = 'usage: node dist/bench/simulators.js --dir <directory> [--users n] [--http-port n] [--state file]';

function fail(message: string): never {
  process.stderr.write(`simulators: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** A port free on loopback now, for the daemon's http.port (the daemon is started after this script). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ options: { dir: { type: 'string' }, users: { type: 'string' }, 'http-port': { type: 'string' }, state: { type: 'string' } }, strict: true }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (!values.dir) fail('--dir is required');
  const users = Number(values.users ?? 200);
  if (!Number.isInteger(users) || users < 10) fail('--users takes a whole number of at least 10');
  const httpPort = values['http-port'] === undefined ? await freePort() : Number(values['http-port']);
  if (!Number.isInteger(httpPort) || httpPort < 1 || httpPort > 65535) fail('--http-port takes a port number');

  const dir = path.resolve(values.dir);
  const secrets = path.join(dir, 'secrets');
  fs.mkdirSync(secrets, { recursive: true, mode: 0o700 });

  const graph = await startGraphSimulator({
    tenant: { seed: 12, users, groups: 8, membersPerGroup: Math.max(5, Math.round(users / 20)), nestedGroups: 0, assignedUserFraction: 0.3, assignedGroups: 3 },
    pageSize: 100,
  });
  const oauth = { clientId: 'entra-sync-ci', clientSecret: 'docuware-client-secret' };
  const scim = await startScimSimulator({ profile: 'docuware', oauth });

  const secret = (name: string, value: string) => {
    const file = path.join(secrets, name);
    fs.writeFileSync(file, value, { mode: 0o600 });
    return file;
  };
  const caFile = path.join(dir, 'graph-ca.pem');
  fs.writeFileSync(caFile, graph.caPem);
  const adminTokenFile = secret('admin-token', 'ci-admin-token');
  const configFile = path.join(dir, 'entra-sync.yaml');
  fs.writeFileSync(configFile, `# Written by bench/simulators.ts: entra-sync run against a simulated tenant and DocuWare target.
source:
  tenantId: ${graph.tenantId}
  clientId: ${graph.clientId}
  clientSecretFile: ${secret('entra-client-secret', graph.clientSecret)}
  servicePrincipalId: ${graph.servicePrincipalId}
  authorityHost: ${graph.authorityHost}
  graphBaseUrl: ${graph.graphBaseUrl}
  caFile: ${caFile}
${values.state ? `state:\n  path: ${path.resolve(values.state)}\n` : ''}schedule:
  cron: "*/40 * * * *"
  runOnStart: true
http:
  host: 127.0.0.1
  port: ${httpPort}
  adminTokenFile: ${adminTokenFile}
targets:
  - name: docuware
    type: scim
    preset: docuware
    baseUrl: ${scim.baseUrl}
    auth:
      type: oauth2
      tokenUrl: ${scim.tokenUrl}
      clientId: ${oauth.clientId}
      clientSecretFile: ${secret('docuware-client-secret', oauth.clientSecret)}
`);

  const base = `http://127.0.0.1:${httpPort}`;
  process.stdout.write(JSON.stringify({
    config: configFile,
    healthz: `${base}/healthz`,
    readyz: `${base}/readyz`,
    metrics: `${base}/metrics`,
    admin: `${base}/admin`,
    adminTokenFile,
    scim: scim.baseUrl,
  }) + '\n');

  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    // What the target holds at the end, for the script that started us to check.
    process.stdout.write(JSON.stringify({ target: { users: scim.users().length, groups: scim.groups().length } }) + '\n');
    await scim.close();
    await graph.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void close());
  process.on('SIGINT', () => void close());
  // The script that started us died or closed our stdin: do not outlive it.
  process.stdin.on('end', () => void close()).on('error', () => void close()).resume();
}

await main();

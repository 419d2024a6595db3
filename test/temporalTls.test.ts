/**
 * Services reach a Temporal that wants TLS, a client certificate (mTLS) or an
 * API key, as a production cluster or Temporal Cloud does: the test's dev
 * server behind a TLS proxy with certificates of a CA made here. A builder
 * (the SDK's native connection) and the dashboard (the client's) connect
 * with the right settings and fail in one line with the wrong ones.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { freshDatabase, temporalAddress, uniqueId, type TestDatabase } from './harness/services';
import { expectOneLineError } from './harness/oneLineError';
import { startGrpcTlsProxy, type GrpcTlsProxy } from './support/grpcTlsProxy';
import { runService, type ServiceRun } from './harness/serviceRun';

const dir = mkdtempSync(join(tmpdir(), 'bf-tls-'));
const pem = (name: string) => join(dir, name);
const API_KEY = 'bf-test-api-key';

function openssl(...args: string[]) {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A key and a certificate signed by `ca` (or self-signed: a CA), with the extensions TLS stacks insist on. */
function certificate(name: string, subject: string, ext: string[], ca?: string) {
  writeFileSync(pem(`${name}.ext`), `${ext.join('\n')}\n`);
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${subject}`,
    '-keyout',
    pem(`${name}.key`),
    '-out',
    pem(`${name}.csr`),
  );
  const signer = ca
    ? ['-CA', pem(`${ca}.crt`), '-CAkey', pem(`${ca}.key`), '-CAcreateserial']
    : ['-signkey', pem(`${name}.key`)];
  openssl(
    'x509',
    '-req',
    '-days',
    '1',
    '-in',
    pem(`${name}.csr`),
    ...signer,
    '-extfile',
    pem(`${name}.ext`),
    '-out',
    pem(`${name}.crt`),
  );
}

/** A service with `env`; once it prints `ready`, SIGTERM; resolves with what it said and its exit code. */
function service(args: string[], env: Record<string, string>, ready: RegExp): Promise<ServiceRun> {
  return runService([...args, '--config', join(dir, 'empty.yaml')], { cwd: dir, env, stopWhen: ready });
}

let db: TestDatabase;
let namespace: string;
let mtls: GrpcTlsProxy;
let apiKeyProxy: GrpcTlsProxy;

beforeAll(async () => {
  // no metrics endpoints: several processes of this test may run at once
  writeFileSync(join(dir, 'empty.yaml'), 'metrics: { port: 0, temporalPort: 0 }\n');
  certificate('ca', 'bootfarm test CA', ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign']);
  certificate('other-ca', 'some other CA', [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  certificate(
    'server',
    'temporal.test',
    ['subjectAltName=DNS:temporal.test', 'extendedKeyUsage=serverAuth', 'basicConstraints=CA:FALSE'],
    'ca',
  );
  certificate('client', 'bootfarm-builder', ['extendedKeyUsage=clientAuth', 'basicConstraints=CA:FALSE'], 'ca');
  certificate('stranger', 'stranger', ['extendedKeyUsage=clientAuth', 'basicConstraints=CA:FALSE'], 'other-ca');
  const files = {
    cert: readFileSync(pem('server.crt')),
    key: readFileSync(pem('server.key')),
    ca: readFileSync(pem('ca.crt')),
  };
  [mtls, apiKeyProxy] = await Promise.all([
    startGrpcTlsProxy({ target: temporalAddress(), ...files, requireClientCert: true }),
    startGrpcTlsProxy({ target: temporalAddress(), ...files, requireClientCert: false, apiKey: API_KEY }),
  ]);
  // a namespace of this file's own: the workers here poll production queue names
  namespace = uniqueId('tls-');
  const admin = await Connection.connect({ address: temporalAddress() });
  await admin.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  await admin.close();
  db = await freshDatabase();
}, 60_000);

afterAll(async () => {
  await Promise.all([mtls?.close(), apiKeyProxy?.close()]);
  await db?.drop();
});

const serverTrust = { TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('ca.crt'), TEMPORAL_TLS_SERVER_NAME: 'temporal.test' };
const clientPair = {
  TEMPORAL_TLS_CLIENT_CERT_PATH: pem('client.crt'),
  TEMPORAL_TLS_CLIENT_KEY_PATH: pem('client.key'),
};

describe('Temporal behind TLS', () => {
  it('a builder connects with mTLS: the CA, the server name and its client certificate', async () => {
    const env = { TEMPORAL_ADDRESS: mtls.address, TEMPORAL_NAMESPACE: namespace, ...serverTrust, ...clientPair };
    const r = await service(['worker', 'builder'], env, /polling build on /);
    expect(r.stdout).toContain(`polling build on ${mtls.address} namespace ${namespace} (mTLS)`);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('the dashboard connects with mTLS too (its client is another gRPC stack)', async () => {
    const env = {
      TEMPORAL_ADDRESS: mtls.address,
      TEMPORAL_NAMESPACE: namespace,
      DATABASE_URL: db.url,
      ...serverTrust,
      ...clientPair,
    };
    const r = await service(['dashboard', '--port', '0'], env, /listening on /);
    expect(r.stdout).toMatch(new RegExp(`listening on .*Temporal ${mtls.address} namespace ${namespace} \\(mTLS\\)`));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('a builder with Temporal Cloud-style API key over TLS connects; with a wrong key it says so in one line', async () => {
    const env = { TEMPORAL_ADDRESS: apiKeyProxy.address, TEMPORAL_NAMESPACE: namespace, ...serverTrust };
    const ok = await service(['worker', 'builder'], { ...env, TEMPORAL_API_KEY: API_KEY }, /polling build on /);
    expect(ok.stdout).toContain(`namespace ${namespace} (TLS, API key)`);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    const wrong = await service(['worker', 'builder'], { ...env, TEMPORAL_API_KEY: 'not-the-key' }, /polling/);
    expectOneLineError(
      wrong,
      new RegExp(`^bootfarm: cannot reach Temporal at ${apiKeyProxy.address}: .*API key not accepted`),
    );
    expect(wrong.stderr).not.toContain('not-the-key');
  });

  it('a server the CA does not vouch for, a server name it does not carry, a client certificate it does not trust: one line each', async () => {
    const base = { TEMPORAL_ADDRESS: mtls.address, TEMPORAL_NAMESPACE: namespace };
    const runs = await Promise.all([
      service(
        ['worker', 'builder'],
        { ...base, ...serverTrust, TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('other-ca.crt'), ...clientPair },
        /polling/,
      ),
      service(
        ['worker', 'builder'],
        { ...base, ...serverTrust, TEMPORAL_TLS_SERVER_NAME: 'elsewhere.test', ...clientPair },
        /polling/,
      ),
      service(
        ['worker', 'builder'],
        {
          ...base,
          ...serverTrust,
          TEMPORAL_TLS_CLIENT_CERT_PATH: pem('stranger.crt'),
          TEMPORAL_TLS_CLIENT_KEY_PATH: pem('stranger.key'),
        },
        /polling/,
      ),
    ]);
    for (const r of runs) {
      expectOneLineError(r, new RegExp(`^bootfarm: cannot reach Temporal at ${mtls.address}: `));
      expect(r.stdout).toBe('');
    }
  });
});

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { composeServices } from '../helpers/compose-file.js';
import { checkDeployment, type DeploymentFiles } from '../helpers/deployment-check.js';
import { readRepoFile, readRepoYaml, repoFileExists } from '../helpers/repo-files.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let real: DeploymentFiles;

before(() => {
  real = {
    compose: readRepoYaml('docker-compose.yml'),
    envoy: readRepoYaml('envoy/envoy.yaml'),
    tollgate: readRepoYaml('config/tollgate.yaml'),
    dockerfile: readRepoFile('Dockerfile'),
    exists: repoFileExists,
  };
});

/** The real files, with `change` applied to deep copies of the parsed ones. */
function changed(
  change: (files: { compose: Json; envoy: Json; tollgate: Json }) => void,
  dockerfile = real.dockerfile,
): DeploymentFiles {
  const copies = {
    compose: structuredClone(real.compose) as Json,
    envoy: structuredClone(real.envoy) as Json,
    tollgate: structuredClone(real.tollgate) as Json,
  };
  change(copies);
  return { ...copies, dockerfile, exists: real.exists };
}

function setFlag(command: string[], flag: string, value: string): void {
  command[command.indexOf(flag) + 1] = value;
}

const EDS_CLUSTERS = [{ name: 'llm_backend', endpoints: [{ address: '172.28.0.10', port: 8000 }] }];

describe('docker-compose.yml, envoy/envoy.yaml, config/tollgate.yaml and the Dockerfile', () => {
  it('agree on service names, ports, mounted files, metadata and limits', () => {
    assert.deepEqual(checkDeployment(real), []);
  });

  it('define Envoy, tollgate, Redis and the mock LLM backend', () => {
    const services = composeServices(real.compose);

    assert.deepEqual([...services.keys()].sort(), ['envoy', 'mock-llm', 'redis', 'tollgate']);
    assert.ok(services.get('tollgate')!.buildContext, 'tollgate is built from this repository');
  });

  it('still agree once tollgate publishes the mock backend over EDS', () => {
    const files = changed(({ tollgate }) => (tollgate.clusters = EDS_CLUSTERS));

    assert.deepEqual(checkDeployment(files), []);
  });
});

describe('the deployment check', () => {
  const cases: Array<{
    what: string;
    change: (files: { compose: Json; envoy: Json; tollgate: Json }) => void;
    dockerfile?: (text: string) => string;
    problem: RegExp;
  }> = [
    {
      what: 'a service is missing',
      change: ({ compose }) => delete compose.services.redis,
      problem: /no service redis/,
    },
    {
      what: 'Envoy dials a misspelt tollgate service',
      change: ({ envoy }) => {
        const endpoint = envoy.static_resources.clusters[0].load_assignment.endpoints[0];
        endpoint.lb_endpoints[0].endpoint.address.socket_address.address = 'tolgate';
      },
      problem: /cluster tollgate dials tolgate, not a compose service/,
    },
    {
      what: 'tollgate listens on another gRPC port',
      change: ({ compose }) =>
        setFlag(compose.services.tollgate.command, '--grpc-address', '0.0.0.0:50052'),
      problem: /cluster tollgate dials port 50051, tollgate listens on 50052/,
    },
    {
      what: 'tollgate listens on loopback inside its container',
      change: ({ compose }) =>
        setFlag(compose.services.tollgate.command, '--grpc-address', '127.0.0.1:50051'),
      problem: /gRPC port listens on 127\.0\.0\.1:50051, unreachable/,
    },
    {
      what: 'a mounted file does not exist',
      change: ({ compose }) =>
        (compose.services.envoy.volumes[0] = './envoy/envoy.yml:/etc/envoy/envoy.yaml:ro'),
      problem: /mounts \.\/envoy\/envoy\.yml, which does not exist/,
    },
    {
      what: "Envoy's listener port is not published",
      change: ({ compose }) => (compose.services.envoy.ports = ['127.0.0.1:9901:9901']),
      problem: /port 10000 of envoy\.yaml is not published/,
    },
    {
      what: 'Docker would kill tollgate before its drain ends',
      change: ({ compose }) => (compose.services.tollgate.stop_grace_period = '10s'),
      problem: /stop_grace_period 10s is not longer than drain_timeout_seconds 15/,
    },
    {
      what: 'the access log reads another metadata key',
      change: ({ tollgate }) => (tollgate.usage.metadata.key = 'gate'),
      problem: new RegExp(
        String.raw`access log reads envoy\.filters\.http\.ext_proc:tollgate:.*` +
          String.raw`tollgate writes envoy\.filters\.http\.ext_proc:gate`,
      ),
    },
    {
      what: 'Envoy does not receive the namespace tollgate writes',
      change: ({ tollgate }) => (tollgate.usage.metadata.namespace = 'tollgate.usage'),
      problem: /does not receive tollgate's metadata namespace tollgate\.usage/,
    },
    {
      what: 'a breaker names no Envoy cluster',
      change: ({ tollgate }) =>
        (tollgate.circuit_breakers.upstreams.openai = { failure_threshold: 3 }),
      problem: /breaker openai names no Envoy cluster/,
    },
    {
      what: 'Envoy buffers more than tollgate reads',
      change: ({ envoy }) =>
        (envoy.static_resources.listeners[0].per_connection_buffer_limit_bytes = 16777216),
      problem: /buffers 16777216 bytes, over tollgate's usage\.max_request_body_bytes/,
    },
    {
      what: "tollgate's decision deadline is not under Envoy's message_timeout",
      change: ({ tollgate }) => (tollgate.server.decision_deadline_ms = 200),
      problem: /decision_deadline_ms 200 is not under Envoy's ext_proc message_timeout \(200 ms\)/,
    },
    {
      what: 'a route sends to a cluster that does not exist',
      change: ({ envoy }) => {
        const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
        hcm.route_config.virtual_hosts[0].routes[0].route.cluster = 'llm';
      },
      problem: /a route sends to cluster llm, which does not exist/,
    },
    {
      what: 'the mock listens on loopback only',
      change: ({ compose }) => setFlag(compose.services['mock-llm'].command, '--host', '127.0.0.1'),
      problem: /mock-llm: listens on loopback only/,
    },
    {
      what: 'the mock runs a script that does not exist',
      change: ({ compose }) =>
        setFlag(compose.services['mock-llm'].command, 'node', 'dist/src/mock-llm/mian.js'),
      problem: /runs dist\/src\/mock-llm\/mian\.js, but src\/mock-llm\/mian\.ts does not exist/,
    },
    {
      what: 'tollgate publishes an address no service has',
      change: ({ tollgate }) =>
        (tollgate.clusters = [
          { name: 'llm_backend', endpoints: [{ address: '172.28.0.11', port: 8000 }] },
        ]),
      problem: /endpoint 172\.28\.0\.11 of llm_backend is no compose service's ipv4_address/,
    },
    {
      what: "tollgate publishes the mock on a port it doesn't listen on",
      change: ({ tollgate }) =>
        (tollgate.clusters = [
          { name: 'llm_backend', endpoints: [{ address: '172.28.0.10', port: 9000 }] },
        ]),
      problem: /endpoint port 9000 of llm_backend, mock-llm listens on 8000/,
    },
    {
      what: "tollgate has no cluster for Envoy's EDS cluster",
      change: ({ tollgate }) => (tollgate.clusters = [{ name: 'backend', endpoints: [] }]),
      problem: /no cluster llm_backend for Envoy's EDS cluster llm_backend/,
    },
    {
      what: 'a Redis URL points elsewhere',
      change: ({ tollgate }) =>
        (tollgate.budgets = { store: { redis: { url: 'redis://localhost:6379' } } }),
      problem: /redis:\/\/localhost:6379 is not the compose redis service/,
    },
    {
      what: 'the image runs as root',
      change: () => undefined,
      dockerfile: (text) => text.replace('USER node', 'USER root'),
      problem: /the final image runs as root/,
    },
    {
      what: 'the image is not node:20-slim',
      change: () => undefined,
      dockerfile: (text) => text.replaceAll('FROM node:20-slim', 'FROM node:22'),
      problem: /not built FROM node:20-slim/,
    },
  ];

  for (const { what, change, dockerfile, problem } of cases) {
    it(`fails when ${what}`, () => {
      const files = changed(change, dockerfile?.(real.dockerfile));
      const problems = checkDeployment(files);

      assert.ok(
        problems.some((line) => problem.test(line)),
        `no problem matched ${problem}: ${JSON.stringify(problems)}`,
      );
    });
  }
});

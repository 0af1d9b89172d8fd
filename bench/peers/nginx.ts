import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, serviceFor, waitUntilUp, type Service } from '../processes.js';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/bin/nginx'];

/** The nginx binary, when this machine has one (the benchmark runs without it otherwise). */
export function findNginx(): string | undefined {
  return CANDIDATES.find((path) => existsSync(path));
}

/**
 * nginx `proxy_pass` as a second physical-limit reference: one worker, upstream keep-alive, no
 * access log, no response buffering (so SSE streams through). Loopback only; runs in the
 * foreground (`daemon off`) so its PID is the one we stop.
 */
export async function startNginx(binary: string, upstreamUrl: string, workDir: string, cpu: number | undefined): Promise<Service> {
  const port = await freePort();
  const upstream = new URL(upstreamUrl);
  const dir = join(workDir, 'nginx');
  await mkdir(join(dir, 'logs'), { recursive: true });
  const config = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream bench_upstream { server ${upstream.host}; keepalive 512; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`;
  const configPath = join(dir, 'nginx.conf');
  await writeFile(configPath, config);
  const command = cpu !== undefined && existsSync('/usr/bin/taskset') ? 'taskset' : binary;
  const args = ['-c', configPath, '-p', dir];
  const child = spawn(command, command === 'taskset' ? ['-c', String(cpu), binary, ...args] : args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = `http://127.0.0.1:${port}`;
  await waitUntilUp(url, child);
  return serviceFor('nginx', url, child);
}

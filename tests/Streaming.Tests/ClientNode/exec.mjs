// Runs one exec through @kubernetes/client-node's Exec class against a CriOci streaming URL and
// prints {stdout, stderr, status, protocol} as JSON. Usage: node exec.mjs <url> [stdin text]
// The library builds API-server paths (/api/v1/namespaces/.../exec); its documented extension
// point, the WebSocket interface passed to Exec, sends the session's own path instead.
import { Exec, KubeConfig } from '@kubernetes/client-node';
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { PassThrough, Readable } from 'node:stream';

const [url, stdinText] = process.argv.slice(2);
const target = new URL(url);
const config = new KubeConfig();
config.loadFromOptions({
  clusters: [{ name: 'node', server: `${target.protocol}//${target.host}`, skipTLSVerify: true }],
  users: [{ name: 'kubelet' }],
  contexts: [{ name: 'streaming', cluster: 'node', user: 'kubelet' }],
  currentContext: 'streaming',
});
const handler = new WebSocketHandler(config);
const sessionPath = { connect: (_apiPath, text, binary) => handler.connect(target.pathname + target.search, text, binary) };

const collect = () => {
  const stream = new PassThrough();
  const chunks = [];
  stream.on('data', (chunk) => chunks.push(chunk));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
};
const stdout = collect();
const stderr = collect();
const stdin = stdinText === undefined ? null : Readable.from([Buffer.from(stdinText)]);

let socket;
const status = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no status within 30 s')), 30000);
  new Exec(config, sessionPath)
    .exec('default', 'pod', 'container', ['ignored: the session holds the command'], stdout.stream, stderr.stream, stdin, false, (s) => {
      clearTimeout(timer);
      resolve(s);
    })
    .then((ws) => { socket = ws; }, reject);
});
console.log(JSON.stringify({ stdout: stdout.text(), stderr: stderr.text(), status, protocol: socket?.protocol }));
socket?.close();

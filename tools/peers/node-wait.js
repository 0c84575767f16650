// The lesson's /wait_async in Node.js: http, a setTimeout, the same body.
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 8001);
http.createServer((req, res) => {
  const secs = Number(new URL(req.url, 'http://x').searchParams.get('secs'));
  setTimeout(() => {
    const body = JSON.stringify({ status: 'ready', seconds: secs });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }, secs * 1000);
}).listen(port, '127.0.0.1');

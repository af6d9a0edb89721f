#!/usr/bin/env node
// The demo's partner API: an HTTPS server that requires a client certificate from the demo CA
// and answers with the subject of the certificate it was shown.
//
//   partner-upstream.js PORT SERVER_CERT SERVER_KEY CLIENT_CA
const fs = require('node:fs');
const https = require('node:https');

const [port, cert, key, ca] = process.argv.slice(2);
const server = https.createServer(
  {
    cert: fs.readFileSync(cert),
    key: fs.readFileSync(key),
    ca: fs.readFileSync(ca),
    requestCert: true,
    rejectUnauthorized: true,
  },
  (request, response) => {
    const peer = request.socket.getPeerCertificate();
    const answer = {
      partner: 'demo partner API',
      method: request.method,
      path: request.url,
      clientCertificate: { subject: peer.subject, serialNumber: peer.serialNumber },
    };
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer, null, 2) + '\n');
  },
);
server.listen(Number(port), '127.0.0.1');

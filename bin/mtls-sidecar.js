#!/usr/bin/env -S node --max-semi-space-size=1
// The proxy's garbage is small and short-lived (request heads, header arrays): a 1 MB young
// generation keeps its resident memory under load close to its idle memory (the default 16 MB
// semi-spaces let it grow by tens of MB, 2 MB ones left 1.5 MB more at idle), for scavenges
// that stay well under a millisecond and no change in latency or throughput. V8 reads the flag
// only at start, hence the interpreter line; an image that starts node itself passes it as
// NODE_OPTIONS=--max-semi-space-size=1.
require('../dist/sidecar/main.js');

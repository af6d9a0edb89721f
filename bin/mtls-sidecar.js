#!/usr/bin/env -S node --max-semi-space-size=2
// The proxy's garbage is small and short-lived (request heads, header arrays): a 2 MB young
// generation keeps its resident memory under load close to its idle memory, where the default
// 16 MB semi-spaces let it grow by tens of MB, for scavenges that stay well under a
// millisecond. V8 reads the flag only at start, hence the interpreter line; a container image
// passes it as NODE_OPTIONS=--max-semi-space-size=2.
require('../dist/sidecar/main.js');

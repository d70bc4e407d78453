#!/usr/bin/env node
// The runner itself is built into dist/. This file is in the repository before any build, so package managers can
// link the `presign-local` bin at install time, and it then runs whatever the build produced.
import '../dist/cli.js';

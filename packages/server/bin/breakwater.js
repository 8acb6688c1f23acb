#!/usr/bin/env node
// The `breakwater` command (migrate, keys): a stable file for package managers to link
// before the package is built; the command itself is dist/bin.js.
import '../dist/bin.js'

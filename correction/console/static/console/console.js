/* The console's own script for every page. Maps are in map.js, loaded by the pages that show one. */
"use strict";

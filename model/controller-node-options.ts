// The controller's V8 heap settings: shipped in its Deployment as NODE_OPTIONS, and used by the
// benchmark so it measures the controller as deployed. Node sizes the heap for the machine: on a
// large node the old generation may grow to 4x its live size before a full GC, and each young
// semi-space to 16 MB, so a controller caching tens of thousands of objects sits at about twice
// the memory it needs. Under a 512 MB limit V8 grows the heap by at most ~1.4x; 2 MB semi-spaces
// cost a few more scavenges during a bulk sync. 512 MB is ~5x the live heap at 10,000 mirrors.
export const CONTROLLER_NODE_OPTIONS = '--max-old-space-size=512 --max-semi-space-size=2';

/**
 * The Node side of the library (`import … from "vhdx-studio/node"`): files as `RandomAccess`, and a
 * differencing image opened with its parents found through the parent locator's paths.
 */
export { NodeFileBackend, type NodeFileOpenOptions } from "../node/fileBackend";
export { nodeParentResolver, openWithParents, type OpenedChain } from "../node/resolveParent";
export { RawFileDisk } from "../node/rawDisk";

/** The engine reads CRC-32C from the shared implementation (the file-system layer uses it too). */
export { crc32c, crc32cUpdate, crc32cWithZeroField } from "../lib/crc32c";

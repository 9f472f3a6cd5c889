import { serve } from "./host";
import { methods } from "./methods";
import type { Port } from "./protocol";

// The worker's global scope is the port: messages from the UI arrive on it, answers leave by it.
serve(self as unknown as Port, methods);

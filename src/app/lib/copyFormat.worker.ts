/** The formatting worker: clipboard text for large copies, built off the page's main thread. */
import { serve } from "../../worker/host";
import type { Port } from "../../worker/protocol";
import { copyMethods } from "./copyJob";

serve(self as unknown as Port, copyMethods);

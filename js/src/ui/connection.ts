/** What the user is told when the server closes the connection with a reason. */
import { type CloseInfo, REFUSED_CODES, SIGNED_OUT_CODE, type TransportStatus } from "../transports/types";
import { t } from "./i18n";

/**
 * "signed_out" once the transport gave up after close code 4401 (the page then goes to
 * its login); the server's reason after 1007/1009 while it reconnects; else null.
 */
export function closeNotice(status: TransportStatus, closed: CloseInfo | null | undefined): "signed_out" | string | null {
  if (!closed) return null;
  if (closed.code === SIGNED_OUT_CODE) return status === "closed" ? "signed_out" : null;
  if (REFUSED_CODES.has(closed.code) && status === "connecting") {
    return t("connection.closed", { reason: closed.reason || String(closed.code) });
  }
  return null;
}

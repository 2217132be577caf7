/** The nft install record (src/ops/nft_marker.ts), written through src/os/durable_file.ts. */
import { assertEquals } from "../../assert.ts";
import type { OpsIo } from "../../../src/ops/io.ts";
import { nftInstallRecorded, recordNftInstall } from "../../../src/ops/nft_marker.ts";

Deno.test("recordNftInstall() writes the record mode 0644 whatever the umask, and replaces an old one's mode", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ktp-nft-marker-" });
  const io = { nftMarkerPath: `${dir}/kuma-tproxy.nft-installed` } as OpsIo;
  const umask = Deno.umask(0o077);
  try {
    assertEquals(await nftInstallRecorded(io), false);
    await recordNftInstall(io);
    assertEquals(await nftInstallRecorded(io), true);
    assertEquals((await Deno.stat(io.nftMarkerPath)).mode! & 0o777, 0o644);
    await Deno.chmod(io.nftMarkerPath, 0o600);
    await recordNftInstall(io);
    assertEquals((await Deno.stat(io.nftMarkerPath)).mode! & 0o777, 0o644);
  } finally {
    Deno.umask(umask);
    await Deno.remove(dir, { recursive: true });
  }
});

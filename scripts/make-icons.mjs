// Renders the app's PNG icons (public/icons/*.png, named in public/manifest.webmanifest) from their
// SVG sources with ImageMagick: `node scripts/make-icons.mjs`. The PNGs are committed; run this
// after changing an SVG.
import { execFileSync } from "node:child_process";

const ICONS = [
  { svg: "icon.svg", png: "icon-192.png", size: 192 },
  { svg: "icon.svg", png: "icon-512.png", size: 512 },
  { svg: "icon-maskable.svg", png: "icon-maskable-512.png", size: 512 },
];
for (const { svg, png, size } of ICONS) {
  const args = ["-background", "none", "-density", "300", `public/icons/${svg}`];
  execFileSync("convert", [...args, "-resize", `${size}x${size}`, `PNG32:public/icons/${png}`], { stdio: "inherit" });
}

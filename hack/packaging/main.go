// Command packaging generates Pylon's packages from config/, so they never
// drift from what `make deploy` installs:
//
//	packaging chart   --input <kustomize build of hack/packaging/installer>
//	packaging bundle  --input <kustomize build of config/default> --version 0.1.0 --channel candidate-v0 --image <operator image> --created-at <RFC 3339>
//	packaging catalog --bundle-image <bundle image> --channel candidate-v0
//
// catalog adds the bundle in bundle/ to catalog-template.yaml (an opm basic
// template: the channels' upgrade graph) and renders catalog/ from it.
//
// The Makefile (hack/make/packaging.mk) runs it; test/packaging runs it again
// into a temporary directory and compares, so committed files must be current.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "packaging:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: packaging chart|bundle|catalog [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	root := fs.String("root", ".", "repository root (config/ is read from here)")
	out := fs.String("out", "", "output directory (default: the repository root)")
	input := fs.String("input", "", "multi-document YAML from kustomize build")
	version := fs.String("version", "0.1.0", "bundle version (semver, no v)")
	channel := fs.String("channel", "candidate-v0", "OLM channel (OLM naming: candidate, fast or stable prefixes)")
	image := fs.String("image", "", "operator image the bundle deploys (repository@sha256:... for relatedImages by digest)")
	createdAt := fs.String("created-at", "", "the CSV's createdAt annotation (RFC 3339), e.g. the release commit's date: a fixed input keeps the bundle reproducible")
	bundleImage := fs.String("bundle-image", "", "bundle image the catalog refers to")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" {
		*out = *root
	}
	switch args[0] {
	case "chart":
		return generateChart(*root, *out, *input)
	case "bundle":
		if *image == "" {
			return fmt.Errorf("bundle: --image is required")
		}
		return generateBundle(bundleOptions{root: *root, out: *out, input: *input, version: *version, channel: *channel, image: *image, createdAt: *createdAt})
	case "catalog":
		if *bundleImage == "" {
			return fmt.Errorf("catalog: --bundle-image is required")
		}
		return generateCatalog(catalogOptions{root: *root, out: *out, bundleImage: *bundleImage, channel: *channel})
	default:
		return fmt.Errorf("unknown command %q: want chart, bundle or catalog", args[0])
	}
}

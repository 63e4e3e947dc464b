fn main() {
	#[cfg(feature = "std")]
	{
		// The WASM build runs a nested cargo inside the target directory. When that directory lives
		// outside the work tree, the builder cannot find the workspace's Cargo.lock on its own;
		// point it there so the on-chain runtime is built from exactly the locked dependencies.
		if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
			// Read at run time: a build script compiled in another checkout of this workspace is reused.
			let manifest_dir = std::path::PathBuf::from(
				std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
			);
			if let Some(workspace) = manifest_dir.parent() {
				std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace);
			}
		}
		substrate_wasm_builder::WasmBuilder::build_using_defaults();
		// The upgrade test's runtime (`upgrade_test::WASM_BINARY`), built beside it.
		substrate_wasm_builder::WasmBuilder::init_with_defaults()
			.enable_feature("upgrade-test")
			.set_file_name("upgrade_test_wasm_binary.rs")
			.build();
	}
}

// Build-tool plugin: compiles the target's api-spec/*.spec files into Swift route tables.
// It only finds inputs and declares outputs; apigen (APIGenCore) does the work.

import Foundation
import PackagePlugin

@main
struct RouteTablePlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        guard let sourceTarget = target as? SourceModuleTarget else { return [] }
        // Inputs come from the target's own file list (the api-spec symlink makes SwiftPM track
        // them); listing the folder would miss it on Linux.
        let specs = sourceTarget.sourceFiles
            .filter { $0.url.pathExtension == "spec" }
            .map(\.url)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !specs.isEmpty else {
            Diagnostics.error("\(target.name): no api-spec/*.spec files found")
            return []
        }
        let outputDirectory = context.pluginWorkDirectoryURL.appending(component: "GeneratedSources")
        let outputs = specs.map { spec in
            let base = spec.deletingPathExtension().lastPathComponent
            return outputDirectory.appending(component: "Routes_\(base).swift")
        }
        return [
            .buildCommand(
                displayName: "Compiling route tables from \(specs.map(\.lastPathComponent).joined(separator: ", "))",
                executable: try context.tool(named: "apigen").url,
                arguments: ["generate", "--output-dir", outputDirectory.path(percentEncoded: false)]
                    + specs.map { $0.path(percentEncoded: false) },
                inputFiles: specs,
                outputFiles: outputs
            )
        ]
    }
}

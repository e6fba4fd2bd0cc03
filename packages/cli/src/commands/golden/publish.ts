import {Args, Flags} from '@oclif/core'
import {LagoCommand} from '../../base-command.js'
import {storeFlags, templateSettings} from '../../template-flags.js'

export default class GoldenPublish extends LagoCommand {
  static summary = 'Publish a golden environment as a Lago template repository another host can fetch it from.'
  static description = `Writes OUTPUT/repo.json (or adds to the repository already there), each disk flattened into OUTPUT/images/ with .hash and .metadata, and the description into OUTPUT/goldens/.
Serve OUTPUT over http(s) (give --base-url) or share it as a directory; on the other host: "lago init DIR --from NAME:VERSION --template-repo-path URL_OR_PATH/repo.json".`
  static examples = ['<%= config.bin %> golden publish base:1 --output /srv/lago-golden --base-url https://example.org/lago-golden/']
  static args = {golden: Args.string({description: 'NAME or NAME:VERSION (default: the newest).', required: true})}
  static flags = {
    ...storeFlags,
    output: Flags.string({char: 'o', summary: 'Repository directory to write (created, or added to).', required: true}),
    'repo-name': Flags.string({summary: 'Name of a new repository (default "golden").'}),
    'base-url': Flags.string({summary: 'The http(s) URL OUTPUT will be served at (default: a file source, the directory itself).'}),
  }

  async run() {
    const {args, flags} = await this.parseLago(GoldenPublish)
    const core = await import('@lago/core')
    const store = core.openStore(await this.loadConfig(), templateSettings(flags))
    const result = await core.publishGolden(new core.GoldenCatalog(store), core.parseGoldenRef(args.golden), {output: flags.output, repoName: flags['repo-name'], baseUrl: flags['base-url']})
    if (!this.jsonEnabled()) this.log(`Published ${result.golden} (${result.images.length} disk image${result.images.length === 1 ? '' : 's'}) in ${result.repository}.`)
    return result
  }
}

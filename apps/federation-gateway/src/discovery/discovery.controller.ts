import { applyDecorators, Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  HostMetaJrd,
  JRD_CONTENT_TYPE,
  NODEINFO_2_1_CONTENT_TYPE,
  NodeInfo21,
  NodeInfoDiscovery,
  XRD_CONTENT_TYPE,
} from '@townhall/activitypub';
import { NodeDescriptionService } from './node-description.service';

/** Public documents any origin may read (no credentials); caches may keep them for `maxAge` seconds. */
const PublicDocument = (maxAge: number) =>
  applyDecorators(
    Header('Access-Control-Allow-Origin', '*'),
    Header('Cache-Control', `public, max-age=${maxAge}`),
  );

const THREE_DAYS = 3 * 24 * 3600;

@ApiTags('discovery')
@ApiResponse({ status: 404, description: 'No instance at this address (problem details).' })
@ApiResponse({
  status: 503,
  description: 'The instance is suspended or not yet available (problem details).',
})
@Controller()
export class DiscoveryController {
  constructor(private readonly description: NodeDescriptionService) {}

  @Get('.well-known/nodeinfo')
  @PublicDocument(THREE_DAYS)
  @ApiOperation({ summary: 'NodeInfo discovery: links to the NodeInfo 2.1 document' })
  @ApiOkResponse({ description: 'JRD with one link of rel http://nodeinfo.diaspora.software/ns/schema/2.1.' })
  nodeInfoLinks(): NodeInfoDiscovery {
    return this.description.nodeInfoLinks();
  }

  @Get('nodeinfo/2.1')
  @PublicDocument(1800)
  @ApiOperation({ summary: 'NodeInfo 2.1: software, protocols and usage of the instance at this Host' })
  @ApiProduces(NODEINFO_2_1_CONTENT_TYPE)
  @ApiOkResponse({ description: 'NodeInfo schema 2.1 document.' })
  @Header('Content-Type', NODEINFO_2_1_CONTENT_TYPE)
  nodeInfo(): Promise<NodeInfo21> {
    return this.description.nodeInfo();
  }

  @Get('.well-known/host-meta')
  @PublicDocument(THREE_DAYS)
  @Header('Content-Type', XRD_CONTENT_TYPE)
  @ApiOperation({ summary: 'host-meta (RFC 6415) as XRD: where WebFinger is' })
  @ApiProduces(XRD_CONTENT_TYPE)
  @ApiOkResponse({ description: 'XRD document with the WebFinger lrdd template.' })
  hostMeta(): string {
    return this.description.hostMetaXml();
  }

  @Get('.well-known/host-meta.json')
  @PublicDocument(THREE_DAYS)
  @Header('Content-Type', JRD_CONTENT_TYPE)
  @ApiOperation({ summary: 'host-meta (RFC 6415) as JRD: where WebFinger is' })
  @ApiOkResponse({ description: 'JRD document with the WebFinger lrdd template.' })
  hostMetaJson(): HostMetaJrd {
    return this.description.hostMetaJson();
  }
}

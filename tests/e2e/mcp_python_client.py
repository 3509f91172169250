"""The official MCP Python SDK against ZeroDB: `zerodb mcp` over stdio and `/mcp` over
streamable HTTP. Each transport stores a memory, finds it by meaning, upserts a vector and
finds it by similarity. Prints "<transport>: ok" per transport; exits non-zero on failure.

Environment: ZERODB_URL, ZERODB_API_KEY, ZERODB_BIN (the zerodb binary)."""

import asyncio
import os
import sys
import uuid

from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def structured(result, tool):
    if result.is_error:
        raise AssertionError(f"{tool} failed: {result.content}")
    return result.structured_content


async def exercise(client, label):
    tools = {tool.name for tool in (await client.list_tools()).tools}
    missing = {"memory_store", "memory_search", "vector_upsert", "vector_search"} - tools
    assert not missing, f"{label}: tools/list lacks {missing}"

    agent = str(uuid.uuid4())
    stored = structured(
        await client.call_tool(
            "memory_store",
            {
                "agent_id": agent,
                "session_id": agent,
                "role": "user",
                "content": f"The {label} customer's favourite colour is teal",
            },
        ),
        "memory_store",
    )
    found = structured(
        await client.call_tool(
            "memory_search", {"query": "which colour does the customer like", "agent_id": agent}
        ),
        "memory_search",
    )
    assert found["results"][0]["memory_id"] == stored["memory_id"], found

    vector_id = str(uuid.uuid4())
    namespace = f"py-{label}"
    structured(
        await client.call_tool(
            "vector_upsert",
            {
                "vector_id": vector_id,
                "namespace": namespace,
                "vector_embedding": [0.3, 0.1, 0.9],
                "document": "teal",
            },
        ),
        "vector_upsert",
    )
    hits = structured(
        await client.call_tool(
            "vector_search", {"namespace": namespace, "query_vector": [0.3, 0.1, 0.8], "limit": 1}
        ),
        "vector_search",
    )
    assert hits["results"][0]["vector_id"] == vector_id, hits

    refused = await client.call_tool("memory_delete", {"memory_id": str(uuid.uuid4())})
    assert refused.is_error, "deleting a memory that does not exist is a tool error"
    assert refused.structured_content["error"]["code"] == "not_found", refused.structured_content
    print(f"{label}: ok", flush=True)


async def main():
    url = os.environ["ZERODB_URL"]
    key = os.environ["ZERODB_API_KEY"]
    stdio = StdioServerParameters(
        command=os.environ["ZERODB_BIN"],
        args=["mcp"],
        env={
            "ZERODB_URL": url,
            "ZERODB_API_KEY": key,
            "ZERODB__LOG__LEVEL": "warn",
            "PATH": os.environ.get("PATH", ""),
        },
    )
    async with Client(stdio) as client:
        await exercise(client, "stdio")

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    async with http:
        async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
            await exercise(client, "http")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as error:  # the test prints what failed
        print(f"failed: {error!r}", file=sys.stderr)
        raise

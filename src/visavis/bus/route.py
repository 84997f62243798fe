"""The Lua script that routes a batch on Redis (bus/redis.py): to each node that
follows one of its topics (the sets `<prefix>f:<topic>`), one batch of just what it
follows."""

# ARGV: the key prefix, the sending node's id, ms since the epoch, then per message
# its topic and its entry (`["<topic>","<payload>"]`, JSON). Each following node but
# the sender gets one batch of the entries it follows, in order; returns how many
# nodes had a listener for theirs.
ROUTE = """
local prefix, own = ARGV[1], ARGV[2]
local followers, parts, nodes = {}, {}, {}
for i = 4, #ARGV, 2 do
  local topic = ARGV[i]
  local members = followers[topic]
  if members == nil then
    members = redis.call('SMEMBERS', prefix .. 'f:' .. topic)
    followers[topic] = members
  end
  for _, node in ipairs(members) do
    if node ~= own then
      local part = parts[node]
      if part == nil then
        part = {}
        parts[node] = part
        nodes[#nodes + 1] = node
      end
      part[#part + 1] = ARGV[i + 1]
    end
  end
end
local head = '{"node":"' .. own .. '","at":' .. ARGV[3] .. ',"batch":['
local heard = 0
for _, node in ipairs(nodes) do
  local batch = head .. table.concat(parts[node], ',') .. ']}'
  if redis.call('PUBLISH', prefix .. '~' .. node, batch) > 0 then
    heard = heard + 1
  else
    -- nobody listens there: the node is gone, or registers again once subscribed
    for topic, members in pairs(followers) do
      for _, member in ipairs(members) do
        if member == node then
          redis.call('SREM', prefix .. 'f:' .. topic, node)
        end
      end
    end
  end
end
return heard
"""

# bash completion for agentwall(1) and agentwalld(8)

# Session ids and policy ids come from the daemon (nothing if it cannot be
# reached); --state-dir on the line being completed is honoured.
_agentwall_ask()
{
	local i sd=()
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		if [[ ${COMP_WORDS[i]} == --state-dir ]]; then
			sd=(--state-dir "${COMP_WORDS[i + 1]}")
		fi
	done
	agentwall "${sd[@]}" "$@" 2>/dev/null
}

_agentwall_sessions()
{
	_agentwall_ask sessions --json |
		grep -o '"session":"[0-9a-f]*"' | cut -d'"' -f4
	echo last
}

_agentwall_policies()
{
	_agentwall_ask policy list --json |
		grep -o '"id":"[^"]*"' | cut -d'"' -f4
}

_agentwall()
{
	local cur prev cmd ci i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	local commands="status ps top web log signatures run sessions diff commit discard approve gc policy inventory help version"

	# The command: the first word that is not a global option.
	cmd=""
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--state-dir) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; ci=$i; break ;;
		esac
	done

	case $prev in
	--state-dir | --workspace)
		COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--session)
		COMPREPLY=($(compgen -W "$(_agentwall_sessions)" -- "$cur")); return ;;
	--policy)
		COMPREPLY=($(compgen -W "$(_agentwall_policies)" -- "$cur")); return ;;
	--action)
		COMPREPLY=($(compgen -W "exec fork exit session-start session-end notice sandbox force syscall commit discard approve quota connect dns discover drop open bind hold policy-load signatures-reload inventory" -- "$cur")); return ;;
	--decision)
		COMPREPLY=($(compgen -W "allow deny sandbox escalate audit" -- "$cur")); return ;;
	--conflict)
		COMPREPLY=($(compgen -W "keep beside" -- "$cur")); return ;;
	--path)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--user)
		COMPREPLY=($(compgen -u -- "$cur")); return ;;
	--agent | --since | --until | --limit | --older-than | --keep-fd | --interval | --listen)
		return ;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--state-dir --help --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	# After "run ... --", complete the command to run.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ $cmd == run && ${COMP_WORDS[i]} == -- ]]; then
			COMPREPLY=($(compgen -c -- "$cur"))
			return
		fi
	done

	case $cmd in
	status | ps | sessions)
		COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
	log)
		COMPREPLY=($(compgen -W "--session --agent --action --decision --since --until --limit --json --ocsf --follow --from-start --verify --anchor --help" -- "$cur")) ;;
	run)
		COMPREPLY=($(compgen -W "--policy --workspace --session --keep-fd -v --help --" -- "$cur")) ;;
	gc)
		COMPREPLY=($(compgen -W "--older-than --help" -- "$cur")) ;;
	inventory)
		COMPREPLY=($(compgen -W "--json --user --help" -- "$cur")) ;;
	top)
		COMPREPLY=($(compgen -W "--once --interval --help" -- "$cur")) ;;
	web)
		COMPREPLY=($(compgen -W "--listen --allow-remote --help" -- "$cur")) ;;
	help)
		COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
	signatures | policy)
		local sub=""
		for ((i = ci + 1; i < COMP_CWORD; i++)); do
			[[ ${COMP_WORDS[i]} != -* ]] && { sub=${COMP_WORDS[i]}; break; }
		done
		if [[ -z $sub ]]; then
			if [[ $cmd == policy ]]; then
				COMPREPLY=($(compgen -W "check load list --help" -- "$cur"))
			else
				COMPREPLY=($(compgen -W "check reload --help" -- "$cur"))
			fi
		elif [[ $sub == check ]]; then
			if [[ $cmd == signatures && $cur == -* ]]; then
				COMPREPLY=($(compgen -W "--path" -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
		elif [[ $sub == list ]]; then
			COMPREPLY=($(compgen -W "--json" -- "$cur"))
		fi
		;;
	diff | commit | discard | approve)
		# The session first, then paths.
		local n=0
		for ((i = ci + 1; i < COMP_CWORD; i++)); do
			[[ ${COMP_WORDS[i]} == --conflict ]] && { ((i++)); continue; }
			[[ ${COMP_WORDS[i]} != -* ]] && ((n++))
		done
		if [[ $cur == -* ]]; then
			case $cmd in
			diff) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
			commit) COMPREPLY=($(compgen -W "--conflict --help" -- "$cur")) ;;
			*) COMPREPLY=($(compgen -W "--help" -- "$cur")) ;;
			esac
		elif ((n == 0)); then
			COMPREPLY=($(compgen -W "$(_agentwall_sessions)" -- "$cur"))
		elif [[ $cmd != approve ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		;;
	esac
}
complete -F _agentwall agentwall

_agentwalld()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	case $prev in
	--mode) COMPREPLY=($(compgen -W "audit enforce" -- "$cur")); return ;;
	--export-format | --webhook-format | --syslog-format)
		COMPREPLY=($(compgen -W "native ocsf" -- "$cur")); return ;;
	--webhook | --syslog | --webhook-batch | --output-queue) return ;;
	--scope) COMPREPLY=($(compgen -W "host cgroup:/" -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
	--state-dir | --bpffs-dir | --signatures | --policies)
		COMPREPLY=($(compgen -d -- "$cur")); return ;;
	--export | --launcher | --config)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--group) COMPREPLY=($(compgen -g -- "$cur")); return ;;
	--max-events | --max-age-days | --ring-mib | --session-quota | --sessions-max | --inventory-interval | --dns-upstream | --metrics)
		return ;;
	esac
	COMPREPLY=($(compgen -W "--scope --mode --state-dir --bpffs-dir --signatures --export --export-format --webhook --webhook-format --webhook-batch --syslog --syslog-format --output-queue --group --max-events --max-age-days --ring-mib --policies --launcher --session-quota --sessions-max --inventory-interval --dns-upstream --json --quiet --config --version --help --metrics --metrics-allow-remote" -- "$cur"))
}
complete -F _agentwalld agentwalld

# bash completion for decant                              -*- shell-script -*-
# Installed by `make install` into share/bash-completion/completions/decant.

_decant()
{
	local cur prev cmd i opts
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		convert|inspect|verify|help) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	local formats="dir: docker-archive: docker-legacy: oci: oci-archive: rootfs:"
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "convert inspect verify help --help --version" -- "$cur"))
		return
	fi
	case $prev in
	--compress) COMPREPLY=($(compgen -W "none gzip zstd" -- "$cur")); return ;;
	--platform) COMPREPLY=($(compgen -W "linux/amd64 linux/arm64 linux/arm/v7 linux/386 linux/ppc64le linux/s390x" -- "$cur")); return ;;
	--level|--threads|--squash-last|--image|--tag|--change|--label|--env|--created|--max-memory) return ;;
	esac
	case $cmd in
	help) COMPREPLY=($(compgen -W "convert inspect verify help" -- "$cur")); return ;;
	convert) opts="--image --tag --compress --level --threads --squash --squash-last --change --label --env --created --platform --max-memory --progress --quiet --help" ;;
	inspect) opts="--json --config --manifest --index --image --max-memory --quiet --help" ;;
	verify) opts="--max-memory --progress --quiet --help" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	# FORMAT: then a path after it
	if [[ $cur == *:* ]]; then
		local fmt=${cur%%:*} path=${cur#*:}
		COMPREPLY=($(compgen -f -- "$path" | sed "s|^|$fmt:|"))
		compopt -o nospace 2>/dev/null || true
		return
	fi
	COMPREPLY=($(compgen -W "$formats" -- "$cur") $(compgen -f -- "$cur"))
	compopt -o nospace 2>/dev/null || true
}
complete -F _decant decant
